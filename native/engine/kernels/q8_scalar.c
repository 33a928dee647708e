/* The portable int8 kernel (q8.h); on Arm cores with the DSP extension (Cortex-M4/M7/M33) two multiply-adds per instruction. */
#include "q8.h"

#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>

/* Entry pairs whose codes are gathered at once: two pixels' worth stays on the stack (256 bytes). */
#define CHUNK 32

/*
 * PKHBT, PKHTB and SXTB16 with its rotation, which GCC's arm_acle.h lacks
 * and GCC does not find from plain C (it spends two instructions on each):
 * low halves of lo and hi; high halves of lo and hi; bytes 1 and 3 sign-extended.
 */
static inline uint32_t pack_low(uint32_t lo, uint32_t hi) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}

static inline uint32_t pack_high(uint32_t lo, uint32_t hi) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
  return r;
}

static inline uint32_t sxtb16_odd(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}

/* The (x0, x1) halfword pair of entry pair q at pixel x. */
static inline int16x2_t codes(const dst_q8_task *t, const int8_t *x, int q) {
  const int e = 2 * q, e1 = e + 1 < t->n ? e + 1 : e;
  return (int16x2_t)pack_low((uint32_t)(int32_t)x[t->off[e]], (uint32_t)(int32_t)x[t->off[e1]]);
}

/*
 * Two pixels at a time (the second may be the first again): per chunk of
 * entry pairs their codes are gathered once, then each pair of lanes runs
 * over the chunk with its four sums in registers, so one weight word (two
 * lanes' pairs, unpacked by SXTB16) feeds four SMLADs.
 */
void dst_q8_scalar_conv16(const dst_q8_task *t) {
  const int pairs = (t->n + 1) / 2;
  for (int p = t->p0; p < t->p1; p += 2) {
    const int two = p + 1 < t->p1;
    const int8_t *xa = dst_q8_pixel(t, p), *xb = dst_q8_pixel(t, two ? p + 1 : p);
    int32_t acc[2][16];
    for (int l = 0; l < 16; l++) acc[0][l] = acc[1][l] = t->bias[l];
    for (int q0 = 0; q0 < pairs; q0 += CHUNK) {
      const int nq = pairs - q0 < CHUNK ? pairs - q0 : CHUNK;
      int16x2_t xs[2][CHUNK];
      for (int q = 0; q < nq; q++) xs[0][q] = codes(t, xa, q0 + q), xs[1][q] = codes(t, xb, q0 + q);
      for (int l = 0; l < 16; l += 2) {
        const int8_t *w = t->w + (size_t)q0 * 32 + 2 * l;
        int32_t a0 = acc[0][l], a1 = acc[0][l + 1], b0 = acc[1][l], b1 = acc[1][l + 1];
        /* unrolled: the loop's compare and branch cost 2 of 13 instructions per pair */
#pragma GCC unroll 4
        for (int q = 0; q < nq; q++, w += 32) {
          uint32_t word;
          __builtin_memcpy(&word, w, 4); /* l.w0, l.w1, l+1.w0, l+1.w1 */
          const uint32_t even = (uint32_t)__sxtb16(word), odd = sxtb16_odd(word);
          const int16x2_t wl = (int16x2_t)pack_low(even, odd), wl1 = (int16x2_t)pack_high(even, odd);
          a0 = __smlad(wl, xs[0][q], a0), a1 = __smlad(wl1, xs[0][q], a1);
          b0 = __smlad(wl, xs[1][q], b0), b1 = __smlad(wl1, xs[1][q], b1);
        }
        acc[0][l] = a0, acc[0][l + 1] = a1, acc[1][l] = b0, acc[1][l + 1] = b1;
      }
    }
    for (int i = 0; i <= two; i++) {
      int8_t *y = t->y + dst_q8_out_offset(t, p + i);
      for (int l = 0; l < t->lanes; l++) y[l] = dst_q8_out(t, l, acc[i][l]);
    }
  }
}
#else
void dst_q8_scalar_conv16(const dst_q8_task *t) {
  for (int p = t->p0; p < t->p1; p++) {
    const int8_t *x = dst_q8_pixel(t, p);
    int32_t acc[16];
    for (int l = 0; l < 16; l++) acc[l] = t->bias[l];
    const int8_t *w = t->w;
    for (int e = 0; e < t->n; e += 2, w += 32) {
      const int32_t x0 = x[t->off[e]], x1 = x[t->off[e + 1 < t->n ? e + 1 : e]];
      for (int l = 0; l < 16; l++) acc[l] += x0 * w[2 * l] + x1 * w[2 * l + 1];
    }
    int8_t *y = t->y + dst_q8_out_offset(t, p);
    for (int l = 0; l < t->lanes; l++) y[l] = dst_q8_out(t, l, acc[l]);
  }
}
#endif

const dst_q8_kernels dst_q8_scalar = {dst_q8_scalar_conv16, NULL};
