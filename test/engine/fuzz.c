/*
 * Mutation fuzzer for the .uhp reader, planner and executor, built with
 * -fsanitize=address,undefined and -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
 * (CRCs are then not enforced, so mutations reach every check behind them).
 * Usage: fuzz ITERATIONS SEED.uhp...  Prints counts; a sanitizer report aborts non-zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../native/engine/uhp_engine.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (uint32_t)(rs >> 16);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n);
  *len = b ? fread(b, 1, (size_t)n, f) : 0;
  fclose(f);
  return b;
}

static const char JSON_CHARS[] = "0123456789-+.eE\"{}[],:tfn ";

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long iterations = atol(argv[1]);
  int n_seeds = argc - 2;
  uint8_t **seeds = calloc((size_t)n_seeds, sizeof *seeds);
  size_t *lens = calloc((size_t)n_seeds, sizeof *lens);
  for (int i = 0; i < n_seeds; i++)
    if (!(seeds[i] = read_file(argv[i + 2], &lens[i]))) return 2;
  long accepted = 0, ran = 0;
  char err[320];
  for (long it = 0; it < iterations; it++) {
    int s = (int)(rnd() % (unsigned)n_seeds);
    size_t len = lens[s];
    uint8_t *b = malloc(len + 64);
    memcpy(b, seeds[s], len);
    uint32_t json_len = (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24;
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds; r++) {
      switch (rnd() % 6) {
        case 0: b[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8)); break;            /* bit flip anywhere */
        case 1: len = rnd() % (len + 1); break;                                    /* truncate */
        case 2: b[rnd() % (len < 32 ? len + 1 : 32)] = (uint8_t)rnd(); break;      /* fixed header byte */
        case 3:                                                                    /* JSON text */
          if (len > 32 && json_len) b[32 + rnd() % (json_len < len - 32 ? json_len : len - 32)] = (uint8_t)JSON_CHARS[rnd() % (sizeof JSON_CHARS - 1)];
          break;
        case 4:                                                                    /* JSON digit */
          for (int k = 0; k < 64 && len > 32 && json_len; k++) {
            size_t at = 32 + rnd() % (json_len < len - 32 ? json_len : len - 32);
            if (b[at] >= '0' && b[at] <= '9') {
              b[at] = (uint8_t)('0' + rnd() % 10);
              break;
            }
          }
          break;
        default:                                                                   /* section payload */
          if (len > 32 + json_len) b[32 + json_len + rnd() % (len - 32 - json_len)] = (uint8_t)rnd();
      }
    }
    dst_engine *e = dst_engine_load(b, len, DST_ISA_AUTO, 1, err, sizeof err);
    if (e) {
      accepted++;
      if (dst_engine_memory(e) < (64u << 20)) {
        size_t in_n = dst_engine_input_size(e), out_n = dst_engine_output_size(e);
        float *in = calloc(in_n, sizeof(float)), *out = calloc(out_n, sizeof(float));
        for (size_t i = 0; i < in_n; i++) in[i] = (float)(rnd() % 200) / 100.0f - 1.0f;
        dst_engine_run(e, in, out, 1);
        ran++;
        free(in), free(out);
      }
      dst_engine_free(e);
    } else if (!err[0] || strchr(err, '\n')) {
      printf("bad error message: '%s'\n", err);
      return 1;
    }
    free(b);
  }
  printf("%ld mutated files: %ld rejected with an error, %ld accepted, %ld run\n", iterations, iterations - accepted, accepted, ran);
  for (int i = 0; i < n_seeds; i++) free(seeds[i]);
  free(seeds), free(lens);
  return 0;
}
