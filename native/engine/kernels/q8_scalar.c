/* The portable int8 kernel (q8.h); on Arm cores with the DSP extension (Cortex-M4/M7/M33) two multiply-adds per instruction. */
#include "q8.h"

#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>

/* Halfword packing (PKHBT/PKHTB, which GCC's arm_acle.h lacks): low halves of lo and hi; high halves of lo and hi. */
static inline uint32_t pack_low(uint32_t lo, uint32_t hi) { return (lo & 0xffffu) | hi << 16; }
static inline uint32_t pack_high(uint32_t lo, uint32_t hi) { return lo >> 16 | (hi & 0xffff0000u); }

/* Lanes l and l + 1 of one pair: their weights as (w0, w1) halfword pairs, each taken by one SMLAD with the codes (x0, x1). */
static inline void pair_lanes(int32_t *acc, const int8_t *w, int16x2_t x) {
  uint32_t word;
  __builtin_memcpy(&word, w, 4); /* l.w0, l.w1, l+1.w0, l+1.w1 */
  const uint32_t even = (uint32_t)__sxtb16(word), odd = (uint32_t)__sxtb16(word >> 8 | word << 24); /* (l.w0, l+1.w0), (l.w1, l+1.w1) */
  acc[0] = __smlad((int16x2_t)pack_low(even, odd), x, acc[0]);
  acc[1] = __smlad((int16x2_t)pack_high(even, odd), x, acc[1]);
}
#endif

void dst_q8_scalar_conv16(const dst_q8_task *t) {
  for (int p = t->p0; p < t->p1; p++) {
    const int8_t *x = dst_q8_pixel(t, p);
    int32_t acc[16];
    for (int l = 0; l < 16; l++) acc[l] = t->bias[l];
    const int8_t *w = t->w;
    for (int e = 0; e < t->n; e += 2, w += 32) {
      const int32_t x0 = x[t->off[e]], x1 = x[t->off[e + 1 < t->n ? e + 1 : e]];
#if defined(__ARM_FEATURE_SIMD32)
      const int16x2_t xs = (int16x2_t)pack_low((uint32_t)x0, (uint32_t)x1);
      for (int l = 0; l < 16; l += 2) pair_lanes(acc + l, w + 2 * l, xs);
#else
      for (int l = 0; l < 16; l++) acc[l] += x0 * w[2 * l] + x1 * w[2 * l + 1];
#endif
    }
    int8_t *y = t->y + dst_q8_out_offset(t, p);
    for (int l = 0; l < t->lanes; l++) y[l] = dst_q8_out(t, l, acc[l]);
  }
}

const dst_q8_kernels dst_q8_scalar = {dst_q8_scalar_conv16};
