/*
 * Stand-alone engine check, built without Node (native, cross-compiled for
 * AArch64 under qemu, or with sanitizers): runs each model on every
 * available kernel set and compares with the scalar path.
 * Usage: driver [--time N] model.uhp...   Exit 0 when all agree within 1e-4 of the output scale.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../native/engine/uhp_engine.h"

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
  *len = b ? fread(b, 1, (size_t)n, f) : 0;
  fclose(f);
  return b;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  int time_runs = 0, first = 1, bad = 0;
  if (argc > 2 && strcmp(argv[1], "--time") == 0) time_runs = atoi(argv[2]), first = 3;
  for (int a = first; a < argc; a++) {
    size_t len;
    uint8_t *bytes = read_file(argv[a], &len);
    char err[320];
    dst_engine *ref = bytes ? dst_engine_load(bytes, len, DST_ISA_SCALAR, 1, err, sizeof err) : NULL;
    if (!ref) {
      printf("%s: %s\n", argv[a], bytes ? err : "cannot read");
      free(bytes);
      bad = 1;
      continue;
    }
    size_t in_n = dst_engine_input_size(ref), out_n = dst_engine_output_size(ref);
    float *in = malloc(in_n * 2 * sizeof(float)), *want = malloc(out_n * 2 * sizeof(float)), *got = malloc(out_n * 2 * sizeof(float));
    unsigned s = 12345;
    for (size_t i = 0; i < in_n * 2; i++) s = s * 1103515245u + 12345u, in[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
    dst_engine_run(ref, in, want, 2);
    double scale = 0;
    for (size_t i = 0; i < out_n * 2; i++) scale = fmax(scale, fabs(want[i]));
    for (int isa = 0; isa < DST_ISA_COUNT; isa++) {
      if (!dst_isa_available(isa)) continue;
      for (int threads = 1; threads <= 2; threads++) {
        dst_engine *e = dst_engine_load(bytes, len, isa, threads, err, sizeof err);
        if (!e) {
          printf("%s %s: %s\n", argv[a], dst_isa_name(isa), err);
          bad = 1;
          continue;
        }
        dst_engine_run(e, in, got, 2);
        double diff = 0;
        for (size_t i = 0; i < out_n * 2; i++) diff = fmax(diff, fabs(got[i] - want[i]));
        double rel = diff / (scale > 0 ? scale : 1);
        printf("%s %s x%d: max error %.2e of output scale", argv[a], dst_isa_name(isa), threads, rel);
        if (time_runs) {
          double t0 = now_ms();
          for (int r = 0; r < time_runs; r++) dst_engine_run(e, in, got, 1);
          printf(", %.3f ms/run", (now_ms() - t0) / time_runs);
        }
        printf("\n");
        if (!(rel <= 1e-4)) bad = 1;
        dst_engine_free(e);
      }
    }
    dst_engine_free(ref);
    free(in), free(want), free(got), free(bytes);
  }
  return bad;
}
