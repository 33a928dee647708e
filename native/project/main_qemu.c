/*
 * dst C export: program for QEMU's mps2-an500 (Cortex-M7 with FPU). Reads
 * the image file named last on the semihosting command line
 * (-semihosting-config ...,arg=model.elf,arg=IMAGE), runs the model once,
 * prints "class score" per line as the hosted program does, then
 * "instructions N": the instructions the inference executed (not cycles),
 * counted as icount.h describes. Exit status 0, or non-zero on an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "icount.h"
#include "model.h"
#include "semihost.h"

/* A float image; an 8-bit one uses its first DST_MODEL_INPUT_SIZE bytes. */
static float image[DST_MODEL_INPUT_SIZE];
static float scores[DST_MODEL_OUTPUT_SIZE];
static char cmdline[512];

__attribute__((noreturn)) static void fail(int status, const char *message) {
  sh_eprint(message);
  sh_exit(status);
}

/* The last word of the command line: QEMU joins the arg= values with spaces. */
static const char *image_path(void) {
  if (sh_cmdline(cmdline, sizeof cmdline) != 0) fail(2, "error: no semihosting command line, or one longer than 511 bytes\n");
  char *end = cmdline + strlen(cmdline);
  while (end > cmdline && end[-1] == ' ') *--end = '\0';
  char *start = strrchr(cmdline, ' ');
  if (!start || start[1] == '\0') fail(2, "usage: -semihosting-config enable=on,target=native,arg=model.elf,arg=IMAGE\n");
  return start + 1;
}

/* Returns 1 for an 8-bit image, 0 for float32, told apart by size as the hosted program does. */
static int read_image(const char *path) {
  char message[640];
  const int h = sh_open_read(path);
  if (h < 0) {
    snprintf(message, sizeof message, "error: cannot open %s\n", path);
    fail(1, message);
  }
  const long n = sh_flen(h);
  const int is_u8 = n == (long)DST_MODEL_INPUT_SIZE;
  if (!is_u8 && n != (long)sizeof image) {
    snprintf(message, sizeof message, "error: %s: %ld bytes; [%d, %d, %d] needs %d (float32) or %d (8-bit)\n", path, n,
             DST_MODEL_INPUT_C, DST_MODEL_INPUT_H, DST_MODEL_INPUT_W, DST_MODEL_INPUT_SIZE * 4, DST_MODEL_INPUT_SIZE);
    fail(1, message);
  }
  if (sh_read(h, image, (size_t)n) != (size_t)n) {
    snprintf(message, sizeof message, "error: %s: short read\n", path);
    fail(1, message);
  }
  sh_close(h);
  return is_u8;
}

int main(void) {
  /* The start-up code grants CP10/CP11 access (CPACR); without it the first float instruction faults. */
  if ((*(volatile uint32_t *)0xE000ED88u & (0xFu << 20)) != (0xFu << 20)) fail(1, "error: FPU access not enabled in CPACR\n");
  const int is_u8 = read_image(image_path());
  dst_icount_start();
  const uint32_t before = dst_icount_now();
  int status = 0;
  if (is_u8) dst_model_run_u8((const uint8_t *)image, scores);
  else status = dst_model_run(image, scores);
  const uint32_t after = dst_icount_now();
  if (status != 0) fail(1, "error: the image holds a NaN or an infinity; the model runs finite images only\n");
  char line[64];
  for (int i = 0; i < DST_MODEL_OUTPUT_SIZE; i++) {
    snprintf(line, sizeof line, "%d %.9g\n", i, scores[i]);
    sh_print(line);
  }
  snprintf(line, sizeof line, "instructions %llu\n", (unsigned long long)dst_icount_between(before, after));
  sh_print(line);
  sh_exit(0);
}
