/* dst C export: hosted program; runs the model on an image file, prints the scores and, with RUNS, the median latency. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define MAX_RUNS 10000

static unsigned char bytes[(size_t)DST_MODEL_INPUT_SIZE * 4 + 1];
static float image[DST_MODEL_INPUT_SIZE];
static float scores[DST_MODEL_OUTPUT_SIZE];
static double times[MAX_RUNS];

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_once(int is_u8) {
  if (is_u8) {
    dst_model_run_u8(bytes, scores);
    return 0;
  }
  return dst_model_run(image, scores);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s IMAGE [RUNS]\n"
                    "  IMAGE: raw [%d, %d, %d] CHW pixels, float32 little-endian (%d bytes) or 8-bit (%d bytes)\n"
                    "  RUNS: run that many times after one warm-up and print the median latency to stderr\n",
            argv[0], DST_MODEL_INPUT_C, DST_MODEL_INPUT_H, DST_MODEL_INPUT_W, DST_MODEL_INPUT_SIZE * 4, DST_MODEL_INPUT_SIZE);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  const size_t n = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  int is_u8;
  if (n == (size_t)DST_MODEL_INPUT_SIZE * 4) {
    is_u8 = 0;
    memcpy(image, bytes, sizeof image);
  } else if (n == (size_t)DST_MODEL_INPUT_SIZE) {
    is_u8 = 1;
  } else {
    fprintf(stderr, "%s: %lu bytes; [%d, %d, %d] needs %d (float32) or %d (8-bit)\n", argv[1], (unsigned long)n,
            DST_MODEL_INPUT_C, DST_MODEL_INPUT_H, DST_MODEL_INPUT_W, DST_MODEL_INPUT_SIZE * 4, DST_MODEL_INPUT_SIZE);
    return 1;
  }
  const int runs = argc == 3 ? atoi(argv[2]) : 0;
  if (argc == 3 && (runs < 1 || runs > MAX_RUNS)) {
    fprintf(stderr, "RUNS must be 1..%d\n", MAX_RUNS);
    return 2;
  }
  if (run_once(is_u8) != 0) {
    fprintf(stderr, "%s: the image holds a NaN or an infinity; the model runs finite images only\n", argv[1]);
    return 1;
  }
  for (int r = 0; r < runs; r++) {
    const double t0 = now_us();
    run_once(is_u8);
    times[r] = now_us() - t0;
  }
  for (int i = 0; i < DST_MODEL_OUTPUT_SIZE; i++) printf("%d %.9g\n", i, scores[i]);
  if (runs > 0) {
    qsort(times, (size_t)runs, sizeof times[0], by_value);
    fprintf(stderr, "median %.3f us over %d runs\n", times[runs / 2], runs);
  }
  return 0;
}
