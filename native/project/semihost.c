/* dst C export: ARM semihosting (bkpt 0xAB, operation in r0, argument in r1) as QEMU implements it. */
#include "semihost.h"

#include <stdint.h>
#include <string.h>

enum {
  SYS_OPEN = 0x01,
  SYS_CLOSE = 0x02,
  SYS_WRITE = 0x05,
  SYS_READ = 0x06,
  SYS_FLEN = 0x0C,
  SYS_GET_CMDLINE = 0x15,
  SYS_EXIT_EXTENDED = 0x20,
  /* fopen modes by index: "rb" reads a file; on ":tt", "w" is standard output and "a" standard error. */
  MODE_RB = 1,
  MODE_W = 4,
  MODE_A = 8,
  ADP_STOPPED_APPLICATION_EXIT = 0x20026,
};

static int call(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static int open_mode(const char *path, int mode) {
  const uintptr_t args[3] = {(uintptr_t)path, (uintptr_t)mode, strlen(path)};
  return call(SYS_OPEN, args);
}

static void write_to(int *handle, int mode, const char *text) {
  if (*handle < 0) *handle = open_mode(":tt", mode);
  const uintptr_t args[3] = {(uintptr_t)*handle, (uintptr_t)text, strlen(text)};
  (void)call(SYS_WRITE, args);
}

static int out = -1, err = -1;

void sh_print(const char *text) {
  write_to(&out, MODE_W, text);
}

void sh_eprint(const char *text) {
  write_to(&err, MODE_A, text);
}

int sh_open_read(const char *path) {
  return open_mode(path, MODE_RB);
}

long sh_flen(int handle) {
  const uintptr_t args[1] = {(uintptr_t)handle};
  return call(SYS_FLEN, args);
}

size_t sh_read(int handle, void *buf, size_t len) {
  const uintptr_t args[3] = {(uintptr_t)handle, (uintptr_t)buf, len};
  /* SYS_READ returns the number of bytes it did not read. */
  return len - (size_t)call(SYS_READ, args);
}

void sh_close(int handle) {
  const uintptr_t args[1] = {(uintptr_t)handle};
  (void)call(SYS_CLOSE, args);
}

int sh_cmdline(char *buf, size_t size) {
  uintptr_t args[2] = {(uintptr_t)buf, size};
  return call(SYS_GET_CMDLINE, args);
}

void sh_exit(int status) {
  /* Plain SYS_EXIT on AArch32 carries no status; the extended call does. */
  const uintptr_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)status};
  (void)call(SYS_EXIT_EXTENDED, args);
  for (;;) {
  }
}

/* A fault ends the run with status 3 instead of spinning until the caller's timeout. */
void dst_default_handler(void) {
  sh_eprint("fault: the program took an exception\n");
  sh_exit(3);
}
