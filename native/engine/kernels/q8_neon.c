/*
 * NEON (AArch64) int8 conv kernel (q8.h): 16 output channels as int32 in
 * four q registers per pixel, 4 pixels per tile. A weight pair is split into
 * its first and second weights (ld2) and widened to int16 once for all the
 * tile's pixels; each pixel then adds x0 * w0 + x1 * w1 with widening
 * multiply-accumulates by element (smlal/smlal2), whose int16 x int16 ->
 * int32 products are exact, so every result equals the scalar kernel's. With the dot-product extension
 * (__ARM_FEATURE_DOTPROD), two pairs go through one sdot per four lanes
 * instead: int8 x int8 summed four at a time into int32, exact as well.
 */
#include <string.h>

#include "q8.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#define INL static inline __attribute__((always_inline))

#define PMAX 4

/* Requantization constants per 4 lanes: multipliers, shifts as negative 64-bit counts (a right shift), zero point and clamp. */
typedef struct {
  int32x4_t mult[4];
  int64x2_t shift[8];
  int32x4_t zq, lo, hi;
} q8_requant;

INL void requant_init(const dst_q8_task *t, q8_requant *r) {
  for (int q = 0; q < 4; q++) {
    r->mult[q] = vld1q_s32(t->mult + 4 * q);
    const int32x4_t s = vnegq_s32(vld1q_s32(t->shift + 4 * q)); /* lanes past t->lanes may hold anything: srshl takes any count, and they are never stored */
    r->shift[2 * q] = vmovl_s32(vget_low_s32(s));
    r->shift[2 * q + 1] = vmovl_high_s32(s);
  }
  r->zq = vdupq_n_s32(t->zq);
  r->lo = vdupq_n_s32(t->lo);
  r->hi = vdupq_n_s32(127);
}

/*
 * Lanes 4q .. 4q + 3 as clamped codes in int32 lanes. srshl by -s is
 * (v + 2^(s - 1)) >> s computed without overflow, which is dst_q8_requant's
 * formula (its 64-bit sum cannot overflow either); xtn keeps the low 32 bits
 * as the scalar's int32 cast does, and the add wraps as its zq + R.
 */
INL int32x4_t requant4(int32x4_t acc, const q8_requant *r, int q) {
  const int64x2_t lo = vrshlq_s64(vmull_s32(vget_low_s32(acc), vget_low_s32(r->mult[q])), r->shift[2 * q]);
  const int64x2_t hi = vrshlq_s64(vmull_high_s32(acc, r->mult[q]), r->shift[2 * q + 1]);
  const int32x4_t v = vaddq_s32(vmovn_high_s64(vmovn_s64(lo), hi), r->zq);
  return vminq_s32(vmaxq_s32(v, r->lo), r->hi);
}

/* The pixel's codes; only the block's valid channels are written (a neighbouring block's may be another thread's). */
INL void store16(const dst_q8_task *t, int8_t *y, const int32x4_t *a, const q8_requant *r) {
  const int16x8_t h0 = vmovn_high_s32(vmovn_s32(requant4(a[0], r, 0)), requant4(a[1], r, 1));
  const int16x8_t h1 = vmovn_high_s32(vmovn_s32(requant4(a[2], r, 2)), requant4(a[3], r, 3));
  const int8x16_t b = vmovn_high_s16(vmovn_s16(h0), h1); /* codes are in [-128, 127] already: plain narrowing */
  if (t->lanes == 16) {
    vst1q_s8(y, b);
  } else {
    int8_t tmp[16];
    vst1q_s8(tmp, b);
    memcpy(y, tmp, (size_t)t->lanes);
  }
}

#if defined(__ARM_FEATURE_DOTPROD)
/*
 * Pairs q and q + 1 as sdot operands: lane l's four bytes (q.w0, q.w1,
 * q+1.w0, q+1.w1) next to each other, which interleaving the two pairs'
 * halfwords (zip1/zip2 on 16-bit elements) gives, 4 lanes per register.
 */
INL void quad_weights(const int8_t *w, const int8_t *w2, int8x16_t *wq) {
  const int16x8_t a0 = vreinterpretq_s16_s8(vld1q_s8(w)), a1 = vreinterpretq_s16_s8(vld1q_s8(w + 16));
  const int16x8_t b0 = vreinterpretq_s16_s8(vld1q_s8(w2)), b1 = vreinterpretq_s16_s8(vld1q_s8(w2 + 16));
  wq[0] = vreinterpretq_s8_s16(vzip1q_s16(a0, b0));
  wq[1] = vreinterpretq_s8_s16(vzip2q_s16(a0, b0));
  wq[2] = vreinterpretq_s8_s16(vzip1q_s16(a1, b1));
  wq[3] = vreinterpretq_s8_s16(vzip2q_s16(a1, b1));
}

/* Four entries (offsets o[0..3]) into P pixels' accumulators. */
INL void quad_step(const int8_t *const *xp, const ptrdiff_t *o, const int8x16_t *wq, int32x4_t (*a)[4], const int P) {
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    const uint32_t x4 = (uint32_t)(uint8_t)xp[i][o[0]] | (uint32_t)(uint8_t)xp[i][o[1]] << 8 | (uint32_t)(uint8_t)xp[i][o[2]] << 16 |
                        (uint32_t)(uint8_t)xp[i][o[3]] << 24;
    const int8x16_t xv = vreinterpretq_s8_u32(vdupq_n_u32(x4));
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[i][q] = vdotq_s32(a[i][q], wq[q], xv);
  }
}
/*
 * Four entries within the 16 bytes from b (a dense conv's runs of channels,
 * UHP 2:4 groups): the pixel's 16 bytes there and one tbl put the four codes
 * in every 32-bit lane, 2 instructions instead of quad_step's 8. ctl holds
 * the codes' positions from b, one byte each.
 */
typedef struct {
  int32_t b;
  uint32_t ctl;
} window_quad;

/* Quads whose windows a task computes once (2 KiB of stack); a task with more computes them per tile. */
#define TABLE_QUADS 256

INL window_quad window_of(const int32_t *o, ptrdiff_t top) {
  ptrdiff_t b = o[0];
  for (int k = 1; k < 4; k++) b = o[k] < b ? o[k] : b;
  b = b < top ? b : top;
  const window_quad wq = {(int32_t)b, (uint32_t)(o[0] - b) | (uint32_t)(o[1] - b) << 8 | (uint32_t)(o[2] - b) << 16 | (uint32_t)(o[3] - b) << 24};
  return wq;
}

INL void window_step(const int8_t *const *xp, window_quad q, const int8x16_t *wq, int32x4_t (*a)[4], const int P) {
  const uint8x16_t ctl = vreinterpretq_u8_u32(vdupq_n_u32(q.ctl));
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    const int8x16_t xv = vqtbl1q_s8(vld1q_s8(xp[i] + q.b), ctl);
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) a[i][k] = vdotq_s32(a[i][k], wq[k], xv);
  }
}

/*
 * The latest window start of the task, or -1 when some full quad spans more
 * than 16 bytes (or all entries fewer): the largest entry offset - 15, so a
 * window never reaches past a pixel's last entry nor (it starts at the
 * quad's lowest) before its first. A pixel's entries are read through one
 * pointer, so every byte between its lowest and highest entry lies in the
 * same array: the windows read nothing the scalar kernel's reads do not bracket.
 */
static ptrdiff_t window_top(const dst_q8_task *t) {
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int e = 0; e < t->n; e++) {
    lo = t->off[e] < lo ? t->off[e] : lo;
    hi = t->off[e] > hi ? t->off[e] : hi;
  }
  if (t->n < 4 || (int64_t)hi - lo < 15) return -1;
  for (int e = 0; e + 4 <= t->n; e += 4) {
    int32_t qlo = t->off[e], qhi = t->off[e];
    for (int k = 1; k < 4; k++) {
      qlo = t->off[e + k] < qlo ? t->off[e + k] : qlo;
      qhi = t->off[e + k] > qhi ? t->off[e + k] : qhi;
    }
    if ((int64_t)qhi - qlo > 15) return -1;
  }
  return (ptrdiff_t)hi - 15;
}
#else
/* One weight pair (entries at o0, o1) into P pixels' accumulators. */
INL void pair_step(const int8_t *const *xp, ptrdiff_t o0, ptrdiff_t o1, const int8_t *w, int32x4_t (*a)[4], const int P) {
  const int8x16x2_t wd = vld2q_s8(w); /* val[0]: the pair's first weight of lanes 0..15, val[1]: its second */
  const int16x8_t w0l = vmovl_s8(vget_low_s8(wd.val[0])), w0h = vmovl_high_s8(wd.val[0]);
  const int16x8_t w1l = vmovl_s8(vget_low_s8(wd.val[1])), w1h = vmovl_high_s8(wd.val[1]);
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) {
    /* (x0, x1) as the two low halfwords of one register, each taken by element */
    const int16x4_t xv = vreinterpret_s16_u32(vdup_n_u32((uint32_t)(uint16_t)xp[i][o0] | (uint32_t)(uint16_t)xp[i][o1] << 16));
    a[i][0] = vmlal_lane_s16(a[i][0], vget_low_s16(w0l), xv, 0);
    a[i][1] = vmlal_high_lane_s16(a[i][1], w0l, xv, 0);
    a[i][2] = vmlal_lane_s16(a[i][2], vget_low_s16(w0h), xv, 0);
    a[i][3] = vmlal_high_lane_s16(a[i][3], w0h, xv, 0);
    a[i][0] = vmlal_lane_s16(a[i][0], vget_low_s16(w1l), xv, 1);
    a[i][1] = vmlal_high_lane_s16(a[i][1], w1l, xv, 1);
    a[i][2] = vmlal_lane_s16(a[i][2], vget_low_s16(w1h), xv, 1);
    a[i][3] = vmlal_high_lane_s16(a[i][3], w1h, xv, 1);
  }
}
#endif

/* Window quads: none (-1), computed per tile (0) or from the task's table (1). */
typedef struct {
  int mode;
  ptrdiff_t top;
  const void *table;
} quad_windows;

INL void tile(const dst_q8_task *t, int p, const int P, const q8_requant *r, const quad_windows *qw) {
  const int8_t *xp[PMAX];
  ptrdiff_t yo[PMAX];
  dst_q8_tile_pixels(t, p, P, xp, yo);
  int32x4_t a[PMAX][4];
#pragma GCC unroll 4
  for (int i = 0; i < P; i++)
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[i][q] = vld1q_s32(t->bias + 4 * q);
  const int32_t *off = t->off;
  const int8_t *w = t->w;
  const int n = t->n;
#if defined(__ARM_FEATURE_DOTPROD)
  int8x16_t wq[4];
  int e = 0;
  if (qw->mode == 1) {
    const window_quad *table = (const window_quad *)qw->table;
    for (; e + 4 <= n; e += 4, w += 64) {
      quad_weights(w, w + 32, wq);
      window_step(xp, table[e / 4], wq, a, P);
    }
  } else if (qw->mode == 0) {
    for (; e + 4 <= n; e += 4, w += 64) {
      quad_weights(w, w + 32, wq);
      window_step(xp, window_of(off + e, qw->top), wq, a, P);
    }
  } else {
    for (; e + 4 <= n; e += 4, w += 64) {
      const ptrdiff_t o[4] = {off[e], off[e + 1], off[e + 2], off[e + 3]};
      quad_weights(w, w + 32, wq);
      quad_step(xp, o, wq, a, P);
    }
  }
  if (e < n) {
    /*
     * One or two pairs left (n - e is 1, 2 or 3). A missing second pair gets
     * zero weights; a missing entry reads entry n - 1 again, whose weight
     * there is 0 (q8.h), so the extra products add nothing.
     */
    static const int8_t zero[32];
    const int two = n - e > 2;
    const ptrdiff_t o[4] = {off[e], off[e + 1 < n ? e + 1 : n - 1], off[e + 2 < n ? e + 2 : n - 1], off[n - 1]};
    quad_weights(w, two ? w + 32 : zero, wq);
    quad_step(xp, o, wq, a, P);
  }
#else
  (void)qw;
  const int n2 = n & ~1;
  for (int e = 0; e < n2; e += 2, w += 32) pair_step(xp, off[e], off[e + 1], w, a, P);
  /* odd n: the last pair's second weight is 0, so entry n - 1 stands in for the missing one */
  if (n & 1) pair_step(xp, off[n2], off[n2], w, a, P);
#endif
#pragma GCC unroll 4
  for (int i = 0; i < P; i++) store16(t, t->y + yo[i], a[i], r);
}

static void conv16(const dst_q8_task *t) {
  q8_requant r;
  requant_init(t, &r);
  quad_windows qw = {-1, 0, NULL};
#if defined(__ARM_FEATURE_DOTPROD)
  window_quad table[TABLE_QUADS];
  if ((qw.top = window_top(t)) >= 0) {
    qw.mode = 0;
    if (t->n / 4 <= TABLE_QUADS) {
      for (int e = 0; e + 4 <= t->n; e += 4) table[e / 4] = window_of(t->off + e, qw.top);
      qw.mode = 1, qw.table = table;
    }
  }
#endif
  int p = t->p0;
  for (; p + PMAX <= t->p1; p += PMAX) tile(t, p, PMAX, &r, &qw);
  switch (t->p1 - p) {
    case 3: tile(t, p, 3, &r, &qw); break;
    case 2: tile(t, p, 2, &r, &qw); break;
    case 1: tile(t, p, 1, &r, &qw); break;
    default: break;
  }
}

const dst_q8_kernels dst_q8_neon = {conv16, NULL};
#endif
