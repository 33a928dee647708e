/* dst C export: the ARM semihosting calls the QEMU program needs (console, one input file, command line, exit). */
#ifndef DST_SEMIHOST_H
#define DST_SEMIHOST_H

#include <stddef.h>

/* Writes a NUL-terminated string to the host's standard output or standard error. */
void sh_print(const char *text);
void sh_eprint(const char *text);

/* Opens a host file for binary reading; returns a handle, or -1. */
int sh_open_read(const char *path);

/* Length in bytes of an open file, or -1. */
long sh_flen(int handle);

/* Reads up to len bytes; returns the number read. */
size_t sh_read(int handle, void *buf, size_t len);

void sh_close(int handle);

/* The command line QEMU was given with -semihosting-config arg=...; 0 on success. */
int sh_cmdline(char *buf, size_t size);

/* Ends the program and QEMU with this exit status (SYS_EXIT_EXTENDED). */
void sh_exit(int status) __attribute__((noreturn));

#endif
