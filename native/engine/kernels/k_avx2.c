/* AVX2 + FMA kernels: output channels in ymm lanes, pixels in registers, inputs broadcast. */
#include "kernels.h"
#include "ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline)) TGT

/* Channels lane0 .. lane0 + 7 of the output pixel at offset pix from y. */
INL void store8(const dst_conv_task *t, ptrdiff_t pix, int lane0, __m256 v) {
  const ptrdiff_t at = pix + lane0;
  const int lanes = t->lanes - lane0;
  if (lanes >= 8) {
    if (t->res) v = _mm256_add_ps(v, _mm256_loadu_ps(t->res + at));
    if (t->relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    _mm256_storeu_ps(t->y + at, v);
  } else if (lanes > 0) {
    /* masked, so nothing past the block's last channel is read or written */
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if (t->res) v = _mm256_add_ps(v, _mm256_maskload_ps(t->res + at, keep));
    if (t->relu) v = _mm256_max_ps(v, _mm256_setzero_ps());
    _mm256_maskstore_ps(t->y + at, keep, v);
  }
}

/* P pixels x 16 channels, 12 accumulators; dense walks taps x channels, sparse walks its entries. */
INL void tile16(const dst_conv_task *t, int p, const int P, const int dense) {
  const float *xp[6];
  ptrdiff_t yo[6];
  dst_tile_pixels(t, p, P, xp, yo);
  if (!dense) dst_opaque_pixels(xp, P);
  __m256 a0[6], a1[6];
  const __m256 b0 = _mm256_loadu_ps(t->bias), b1 = _mm256_loadu_ps(t->bias + 8);
#pragma GCC unroll 6
  for (int i = 0; i < P; i++) {
    a0[i] = b0;
    a1[i] = b1;
  }
  const float *w = t->w;
  if (dense) {
    for (int tap = 0; tap < t->n_off; tap++) {
      const ptrdiff_t o = t->off[tap];
      for (int c = 0; c < t->cin; c++, w += 16) {
        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 6
        for (int i = 0; i < P; i++) {
          const __m256 xv = _mm256_broadcast_ss(xp[i] + o + c);
          a0[i] = _mm256_fmadd_ps(xv, w0, a0[i]);
          a1[i] = _mm256_fmadd_ps(xv, w1, a1[i]);
        }
      }
    }
  } else {
    for (int e = 0; e < t->n_off; e++, w += 16) {
      const ptrdiff_t o = t->off[e];
      const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma GCC unroll 6
      for (int i = 0; i < P; i++) {
        const __m256 xv = _mm256_broadcast_ss(xp[i] + o);
        a0[i] = _mm256_fmadd_ps(xv, w0, a0[i]);
        a1[i] = _mm256_fmadd_ps(xv, w1, a1[i]);
      }
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < P; i++) {
    store8(t, yo[i], 0, a0[i]);
    store8(t, yo[i], 8, a1[i]);
  }
}

INL void run16(const dst_conv_task *t, const int dense) {
  int p = t->p0;
  for (; p + 6 <= t->p1; p += 6) tile16(t, p, 6, dense);
  switch (t->p1 - p) {
    case 5: tile16(t, p, 5, dense); break;
    case 4: tile16(t, p, 4, dense); break;
    case 3: tile16(t, p, 3, dense); break;
    case 2: tile16(t, p, 2, dense); break;
    case 1: tile16(t, p, 1, dense); break;
    default: break;
  }
}

TGT void dst_avx2_dense16(const dst_conv_task *t) { run16(t, 1); }
TGT static void sparse16(const dst_conv_task *t) { run16(t, 0); }

INL void tile8(const dst_conv_task *t, int p, const int P) {
  const float *xp[8];
  ptrdiff_t yo[8];
  dst_tile_pixels(t, p, P, xp, yo);
  dst_opaque_pixels(xp, P);
  __m256 a[8];
  const __m256 b = _mm256_loadu_ps(t->bias);
#pragma GCC unroll 8
  for (int i = 0; i < P; i++) {
    a[i] = b;
  }
  const float *w = t->w;
  for (int e = 0; e < t->n_off; e++, w += 8) {
    const ptrdiff_t o = t->off[e];
    const __m256 wv = _mm256_loadu_ps(w);
#pragma GCC unroll 8
    for (int i = 0; i < P; i++) a[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(xp[i] + o), wv, a[i]);
  }
#pragma GCC unroll 8
  for (int i = 0; i < P; i++) store8(t, yo[i], 0, a[i]);
}

TGT void dst_avx2_sparse8(const dst_conv_task *t) {
  int p = t->p0;
  for (; p + 8 <= t->p1; p += 8) tile8(t, p, 8);
  for (; p < t->p1; p++) tile8(t, p, 1);
}

/*
 * Own mask per output channel: each lane picks its kept inputs out of the
 * group's M contiguous floats with an in-register permute, so the kept
 * positions cost no memory gather. Kept entries alternate between two
 * accumulator sets so consecutive FMAs of a pixel do not wait on each other.
 */
INL void gtile(const dst_conv_task *t, int p, const int P, const int M, const int N) {
  const float *xp[4];
  ptrdiff_t yo[4];
  dst_tile_pixels(t, p, P, xp, yo);
  __m256 a[4][2];
  const __m256 b = _mm256_loadu_ps(t->bias);
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    a[i][0] = b;
    a[i][1] = _mm256_setzero_ps();
  }
  const int32_t *idx = t->idx;
  const float *w = t->w;
  for (int g = 0; g < t->n_off; g++, idx += N * 8, w += N * 8) {
    const ptrdiff_t o = t->off[g];
#pragma GCC unroll 8
    for (int k0 = 0; k0 < N; k0 += 2) {
      const int pair = k0 + 1 < N;
      const __m256i i0 = _mm256_loadu_si256((const __m256i *)(idx + k0 * 8));
      const __m256 w0 = _mm256_loadu_ps(w + k0 * 8);
      const __m256i i1 = pair ? _mm256_loadu_si256((const __m256i *)(idx + k0 * 8 + 8)) : i0;
      const __m256 w1 = pair ? _mm256_loadu_ps(w + k0 * 8 + 8) : w0;
#pragma GCC unroll 4
      for (int i = 0; i < P; i++) {
        const __m256 xg = M == 4 ? _mm256_broadcast_ps((const __m128 *)(xp[i] + o)) : _mm256_loadu_ps(xp[i] + o);
        a[i][0] = _mm256_fmadd_ps(M == 4 ? _mm256_permutevar_ps(xg, i0) : _mm256_permutevar8x32_ps(xg, i0), w0, a[i][0]);
        if (pair) a[i][1] = _mm256_fmadd_ps(M == 4 ? _mm256_permutevar_ps(xg, i1) : _mm256_permutevar8x32_ps(xg, i1), w1, a[i][1]);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) store8(t, yo[i], 0, _mm256_add_ps(a[i][0], a[i][1]));
}

INL void grun(const dst_conv_task *t, const int M, const int N) {
  int p = t->p0;
  for (; p + 4 <= t->p1; p += 4) gtile(t, p, 4, M, N);
  for (; p < t->p1; p++) gtile(t, p, 1, M, N);
}

TGT void dst_avx2_gather8(const dst_conv_task *t) {
  switch (t->m * 16 + t->cin) {
    case 4 * 16 + 1: grun(t, 4, 1); break;
    case 4 * 16 + 2: grun(t, 4, 2); break;
    case 4 * 16 + 3: grun(t, 4, 3); break;
    case 8 * 16 + 1: grun(t, 8, 1); break;
    case 8 * 16 + 2: grun(t, 8, 2); break;
    case 8 * 16 + 3: grun(t, 8, 3); break;
    case 8 * 16 + 4: grun(t, 8, 4); break;
    case 8 * 16 + 5: grun(t, 8, 5); break;
    case 8 * 16 + 6: grun(t, 8, 6); break;
    case 8 * 16 + 7: grun(t, 8, 7); break;
    default: break; /* the planner never sends other group sizes here (gather_m_mask) */
  }
}

/* r[l] holds channel l for 8 pixels; afterwards r[j] holds pixel j for 8 channels. */
INL void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

/* Tile height: a 3-row shape holds its accumulators, 3 weights and the input vector in the 16 registers. */
#define ROWS_TILE 11

/*
 * n entries of shape S (kernels.h) into one channel's V accumulators: each
 * input vector is loaded once and multiplied by every kept weight of its
 * column whose output row lies in the tile.
 */
INL void rshape(__m256 a[ROWS_TILE], const int V, const int S, int n, const int32_t *off, const float *w, const float *xb) {
  const int mask = 2 * S + 1, nw = 1 + (mask >> 1 & 1) + (mask >> 2 & 1), span = mask > 4 ? 3 : mask > 1 ? 2 : 1;
  for (int e = 0; e < n; e++, w += nw) {
    const float *xe = xb + off[e];
    __m256 wv[3];
    for (int d = 0, k = 0; d < 3; d++)
      if (mask >> d & 1) wv[d] = _mm256_broadcast_ss(w + k++);
#pragma GCC unroll 13
    for (int r = 0; r < V + span - 1; r++) {
      __m256 x = _mm256_load_ps(xe + 8 * r);
      /* in a register, or the compiler folds the load into every multiply-add that uses it */
      if (nw > 1) __asm__("" : "+x"(x));
#pragma GCC unroll 3
      for (int d = 0; d < 3; d++)
        if (mask >> d & 1 && r - d >= 0 && r - d < V) a[r - d] = _mm256_fmadd_ps(x, wv[d], a[r - d]);
    }
  }
}

/*
 * V consecutive output rows of vector column jv, 8 channels. One channel at a
 * time keeps V accumulators in registers, so each broadcast weight and offset
 * serves V rows, all from one base pointer. The chunk loop is outermost: all
 * channels sweep one chunk's inputs while they are in L1, the accumulators
 * waiting in acc between chunks.
 */
INL void rtile(const dst_conv_task *t, int oy0, int jv, const int V) {
  const int seg = (t->ow + 7) / 8;
  const float *xb = t->x + jv * t->x_col + 8 * (ptrdiff_t)oy0;
  __m256 acc[8][ROWS_TILE];
  /* lanes past the block's channels are transposed and dropped: any value, but a defined one */
  for (int l = t->lanes; l < 8; l++)
#pragma GCC unroll 11
    for (int i = 0; i < V; i++) acc[l][i] = _mm256_setzero_ps();
  const int32_t *off = t->off;
  const float *w = t->w;
  for (int k = 0; k < t->cin; k++)
    for (int l = 0; l < t->lanes; l++) {
      const int32_t *cnt = t->idx + ((ptrdiff_t)k * 8 + l) * DST_ROWS_SHAPES;
      __m256 a[ROWS_TILE];
      /* the first chunk starts from the bias in registers, later ones from what the chunk before left */
      const __m256 b = _mm256_broadcast_ss(t->bias + l);
#pragma GCC unroll 11
      for (int i = 0; i < V; i++) a[i] = k == 0 ? b : acc[l][i];
      rshape(a, V, 0, cnt[0], off, w, xb);
      off += cnt[0], w += cnt[0];
      rshape(a, V, 1, cnt[1], off, w, xb);
      off += cnt[1], w += 2 * cnt[1];
      rshape(a, V, 2, cnt[2], off, w, xb);
      off += cnt[2], w += 2 * cnt[2];
      rshape(a, V, 3, cnt[3], off, w, xb);
      off += cnt[3], w += 3 * cnt[3];
#pragma GCC unroll 11
      for (int i = 0; i < V; i++) acc[l][i] = a[i];
    }
  const int npix = (t->ow - jv + seg - 1) / seg; /* lanes k with k * seg + jv < ow */
  for (int i = 0; i < V; i++) {
    __m256 r[8];
#pragma GCC unroll 8
    for (int l = 0; l < 8; l++) r[l] = acc[l][i];
    transpose8(r);
    for (int k = 0; k < npix; k++) store8(t, (ptrdiff_t)(oy0 + i) * t->y_row + (ptrdiff_t)(k * seg + jv) * t->y_pix, 0, r[k]);
  }
}

/*
 * Rows split into tiles of equal height, at most ROWS_TILE: a short tail tile
 * would chain each accumulator's FMAs back to back and wait on their latency.
 */
TGT void dst_avx2_rows8(const dst_conv_task *t) {
  const int seg = (t->ow + 7) / 8, rows = t->p1 - t->p0, tiles = (rows + ROWS_TILE - 1) / ROWS_TILE;
  for (int jv = 0; jv < seg; jv++)
    for (int i = 0; i < tiles; i++) {
      const int r0 = t->p0 + rows * i / tiles, r1 = t->p0 + rows * (i + 1) / tiles;
      switch (r1 - r0) {
        case 11: rtile(t, r0, jv, 11); break;
        case 10: rtile(t, r0, jv, 10); break;
        case 9: rtile(t, r0, jv, 9); break;
        case 8: rtile(t, r0, jv, 8); break;
        case 7: rtile(t, r0, jv, 7); break;
        case 6: rtile(t, r0, jv, 6); break;
        case 5: rtile(t, r0, jv, 5); break;
        case 4: rtile(t, r0, jv, 4); break;
        case 3: rtile(t, r0, jv, 3); break;
        case 2: rtile(t, r0, jv, 2); break;
        default: rtile(t, r0, jv, 1); break;
      }
    }
}

/*
 * Whole 8-channel blocks: one 8 x 8 transpose per input vector; other channel
 * counts take the portable loop. Which lanes lie inside the image is fixed per
 * vector column and rows outside it are all zero, so most vectors load
 * without a test per lane.
 */
TGT void dst_avx2_rows_prep(const float *x, const dst_rows_geo *g, int r0, int r1, float *out) {
  if (g->c % 8 != 0) {
    dst_rows_prep(x, g, r0, r1, out);
    return;
  }
  const __m256 zero = _mm256_setzero_ps();
  const size_t plane = (size_t)g->hq * 8; /* floats per (phase, vector, channel) */
  for (int fy = 0; fy < g->sh; fy++)
    for (int fx = 0; fx < g->sw; fx++)
      for (int j = 0; j < g->jq; j++) {
        float *o = out + ((size_t)(fy * g->sw + fx) * g->jq + j) * g->c * plane;
        ptrdiff_t at[8];
        int all = 1;
        for (int k = 0; k < 8; k++) {
          const int col = (k * g->seg + j) * g->sw + fx - g->pw, in = col >= 0 && col < g->w;
          at[k] = in ? (ptrdiff_t)col * g->c : -1;
          all &= in;
        }
        for (int r = r0; r < r1; r++) {
          const int y = r * g->sh + fy - g->ph;
          if (y < 0 || y >= g->h) {
            for (int ch = 0; ch < g->c; ch++) _mm256_store_ps(o + ch * plane + (size_t)r * 8, zero);
            continue;
          }
          const float *xr = x + (size_t)y * g->w * g->c;
          for (int c0 = 0; c0 < g->c; c0 += 8) {
            __m256 v[8];
            if (all) {
#pragma GCC unroll 8
              for (int k = 0; k < 8; k++) v[k] = _mm256_loadu_ps(xr + at[k] + c0);
            } else {
#pragma GCC unroll 8
              for (int k = 0; k < 8; k++) v[k] = at[k] >= 0 ? _mm256_loadu_ps(xr + at[k] + c0) : zero;
            }
            transpose8(v);
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) _mm256_store_ps(o + (c0 + l) * plane + (size_t)r * 8, v[l]);
          }
        }
      }
}

/* The window's maximum stays in registers, 8 channels at a time; other channel counts take the portable loop. */
TGT void dst_avx2_maxpool(const float *x, int w, int c, int kh, int kw, int sh, int sw, int oh, int ow, float *y) {
  if (c % 8 != 0) {
    dst_pool2d(x, (oh - 1) * sh + kh, w, c, kh, kw, sh, sw, 0, 0, oh, ow, 1, y);
    return;
  }
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++) {
      const float *xw = x + ((size_t)oy * sh * w + (size_t)ox * sw) * c;
      float *o = y + ((size_t)oy * ow + ox) * c;
      for (int c0 = 0; c0 < c; c0 += 8) {
        __m256 m = _mm256_loadu_ps(xw + c0);
        for (int i = 0; i < kh; i++)
          for (int j = 0; j < kw; j++) m = _mm256_max_ps(m, _mm256_loadu_ps(xw + ((size_t)i * w + j) * c + c0));
        _mm256_storeu_ps(o + c0, m);
      }
    }
}

const dst_kernels dst_kernels_avx2 = {dst_avx2_dense16, sparse16, dst_avx2_sparse8, dst_avx2_gather8, dst_avx2_rows8, dst_avx2_rows_prep, dst_avx2_maxpool, (1 << 4) | (1 << 8), dst_scalar_gather8};
#endif
