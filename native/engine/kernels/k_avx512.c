/*
 * AVX-512F kernels: 16 output channels fill one zmm, so a tile holds 12
 * pixels. Blocks of 8 channels (sparse8, gather8, rows8) run the AVX2 kernels,
 * which every AVX-512 CPU also executes.
 */
#include "kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx2,fma")))
#define INL static inline __attribute__((always_inline)) TGT

void dst_avx2_sparse8(const dst_conv_task *t);
void dst_avx2_gather8(const dst_conv_task *t);
void dst_avx2_rows8(const dst_conv_task *t);
void dst_avx2_maxpool(const float *x, int w, int c, int kh, int kw, int sh, int sw, int oh, int ow, float *y);
void dst_avx2_rows_prep(const float *x, const dst_rows_geo *g, int r0, int r1, float *out);

INL void tile(const dst_conv_task *t, int p, const int P, const int dense) {
  const float *xp[12];
  ptrdiff_t yo[12];
  dst_tile_pixels(t, p, P, xp, yo);
  __m512 a[12];
  const __m512 b = _mm512_loadu_ps(t->bias);
#pragma GCC unroll 12
  for (int i = 0; i < P; i++) {
    a[i] = b;
  }
  const float *w = t->w;
  if (dense) {
    for (int tap = 0; tap < t->n_off; tap++) {
      const ptrdiff_t o = t->off[tap];
      for (int c = 0; c < t->cin; c++, w += 16) {
        const __m512 wv = _mm512_loadu_ps(w);
#pragma GCC unroll 12
        for (int i = 0; i < P; i++) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(xp[i][o + c]), wv, a[i]);
      }
    }
  } else {
    for (int e = 0; e < t->n_off; e++, w += 16) {
      const ptrdiff_t o = t->off[e];
      const __m512 wv = _mm512_loadu_ps(w);
#pragma GCC unroll 12
      for (int i = 0; i < P; i++) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(xp[i][o]), wv, a[i]);
    }
  }
  const __mmask16 keep = (__mmask16)((1u << t->lanes) - 1u);
#pragma GCC unroll 12
  for (int i = 0; i < P; i++) {
    const ptrdiff_t at = yo[i];
    __m512 v = t->res ? _mm512_add_ps(a[i], _mm512_maskz_loadu_ps(keep, t->res + at)) : a[i];
    if (t->relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
    _mm512_mask_storeu_ps(t->y + at, keep, v);
  }
}

INL void run(const dst_conv_task *t, const int dense) {
  int p = t->p0;
  for (; p + 12 <= t->p1; p += 12) tile(t, p, 12, dense);
  if (t->p1 - p >= 6) {
    tile(t, p, 6, dense);
    p += 6;
  }
  for (; p < t->p1; p++) tile(t, p, 1, dense);
}

TGT static void dense16(const dst_conv_task *t) { run(t, 1); }
TGT static void sparse16(const dst_conv_task *t) { run(t, 0); }

const dst_kernels dst_kernels_avx512 = {dense16, sparse16, dst_avx2_sparse8, dst_avx2_gather8, dst_avx2_rows8, dst_avx2_rows_prep, dst_avx2_maxpool, (1 << 4) | (1 << 8), dst_scalar_gather8};
#endif
