/* NEON (AArch64) kernels: 16 output channels in four q registers, 4 pixels per tile. */
#include "kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define INL static inline __attribute__((always_inline))

/* Channels lane0 .. lane0 + 3 of the output pixel at offset pix from y. */
INL void store4(const dst_conv_task *t, ptrdiff_t pix, int lane0, float32x4_t v) {
  const ptrdiff_t at = pix + lane0;
  int lanes = t->lanes - lane0;
  if (lanes >= 4) {
    if (t->res) v = vaddq_f32(v, vld1q_f32(t->res + at));
    if (t->relu) v = vmaxq_f32(v, vdupq_n_f32(0.0f));
    vst1q_f32(t->y + at, v);
  } else if (lanes > 0) {
    float tmp[4];
    vst1q_f32(tmp, v);
    dst_store_lanes(t->y + at, t->res ? t->res + at : NULL, tmp, lanes, t->relu);
  }
}

/* P pixels x (4 * Q) channels; dense walks taps x channels, sparse walks entries. */
INL void tile(const dst_conv_task *t, int p, const int P, const int Q, const int dense) {
  const float *xp[8];
  ptrdiff_t yo[8];
  dst_tile_pixels(t, p, P, xp, yo);
  float32x4_t a[8][4];
#pragma GCC unroll 8
  for (int i = 0; i < P; i++) {
#pragma GCC unroll 4
    for (int q = 0; q < Q; q++) a[i][q] = vld1q_f32(t->bias + 4 * q);
  }
  const float *w = t->w;
  const int steps = dense ? t->cin : 1;
  for (int e = 0; e < t->n_off; e++) {
    const ptrdiff_t o = t->off[e];
    for (int c = 0; c < steps; c++, w += 4 * Q) {
      float32x4_t wv[4];
#pragma GCC unroll 4
      for (int q = 0; q < Q; q++) wv[q] = vld1q_f32(w + 4 * q);
#pragma GCC unroll 8
      for (int i = 0; i < P; i++) {
        const float xv = xp[i][o + c];
#pragma GCC unroll 4
        for (int q = 0; q < Q; q++) a[i][q] = vfmaq_n_f32(a[i][q], wv[q], xv);
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < P; i++)
#pragma GCC unroll 4
    for (int q = 0; q < Q; q++) store4(t, yo[i], 4 * q, a[i][q]);
}

static void dense16(const dst_conv_task *t) {
  int p = t->p0;
  for (; p + 4 <= t->p1; p += 4) tile(t, p, 4, 4, 1);
  for (; p < t->p1; p++) tile(t, p, 1, 4, 1);
}

static void sparse16(const dst_conv_task *t) {
  int p = t->p0;
  for (; p + 4 <= t->p1; p += 4) tile(t, p, 4, 4, 0);
  for (; p < t->p1; p++) tile(t, p, 1, 4, 0);
}

static void sparse8(const dst_conv_task *t) {
  int p = t->p0;
  for (; p + 8 <= t->p1; p += 8) tile(t, p, 8, 2, 0);
  for (; p < t->p1; p++) tile(t, p, 1, 2, 0);
}

/* Byte-shuffle table that moves float idx[l] of a group into lane l. */
INL uint8x16_t lanes_table(const int32_t *idx) {
  uint32x4_t v = vreinterpretq_u32_s32(vld1q_s32(idx));
  return vreinterpretq_u8_u32(vaddq_u32(vmulq_n_u32(v, 0x04040404u), vdupq_n_u32(0x03020100u)));
}

/* Own mask per output channel: lanes pick kept inputs from the group's M floats with tbl. */
INL void gtile(const dst_conv_task *t, int p, const int P, const int M, const int N) {
  const float *xp[4];
  ptrdiff_t yo[4];
  dst_tile_pixels(t, p, P, xp, yo);
  float32x4_t a[4][2];
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    a[i][0] = vld1q_f32(t->bias);
    a[i][1] = vld1q_f32(t->bias + 4);
  }
  const int32_t *idx = t->idx;
  const float *w = t->w;
  for (int g = 0; g < t->n_off; g++) {
    const ptrdiff_t o = t->off[g];
    for (int k = 0; k < N; k++, idx += 8, w += 8) {
      const uint8x16_t t0 = lanes_table(idx), t1 = lanes_table(idx + 4);
      const float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4);
#pragma GCC unroll 4
      for (int i = 0; i < P; i++) {
        float32x4_t s0, s1;
        if (M == 4) {
          const uint8x16_t xg = vreinterpretq_u8_f32(vld1q_f32(xp[i] + o));
          s0 = vreinterpretq_f32_u8(vqtbl1q_u8(xg, t0));
          s1 = vreinterpretq_f32_u8(vqtbl1q_u8(xg, t1));
        } else {
          const uint8x16x2_t xg = {{vreinterpretq_u8_f32(vld1q_f32(xp[i] + o)), vreinterpretq_u8_f32(vld1q_f32(xp[i] + o + 4))}};
          s0 = vreinterpretq_f32_u8(vqtbl2q_u8(xg, t0));
          s1 = vreinterpretq_f32_u8(vqtbl2q_u8(xg, t1));
        }
        a[i][0] = vfmaq_f32(a[i][0], s0, w0);
        a[i][1] = vfmaq_f32(a[i][1], s1, w1);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    store4(t, yo[i], 0, a[i][0]);
    store4(t, yo[i], 4, a[i][1]);
  }
}

INL void grun(const dst_conv_task *t, const int M) {
  int p = t->p0;
  for (; p + 4 <= t->p1; p += 4) gtile(t, p, 4, M, t->cin);
  for (; p < t->p1; p++) gtile(t, p, 1, M, t->cin);
}

static void gather8(const dst_conv_task *t) {
  if (t->m == 4) grun(t, 4);
  else grun(t, 8);
}

const dst_kernels dst_kernels_neon = {dense16, sparse16, sparse8, gather8, NULL, NULL, NULL, (1 << 4) | (1 << 8), dst_scalar_gather8};
#endif
