/*
 * int8 conv kernels (uhp-format.md, version 2): integer only, so every
 * kernel set gives the scalar one's results bit for bit.
 *
 * Activations are NHWC int8 codes, as for float (kernels.h). A task computes
 * output pixels [p0, p1) for one block of 16 output channels, from n entries:
 * entry e reads the code at the pixel's window start plus off[e]. Entries go
 * in pairs, so a kernel multiplies two codes by two weights per lane at once
 * (vpmaddwd, smlal, SMLAD): pair q holds lane l's two weights at
 * w[(q * 16 + l) * 2 + {0, 1}]; an odd n leaves the last pair's second weight
 * 0 (a kernel then reads entry n - 1 twice).
 *
 * acc = bias[l] + sum_e x[e] * w[e][l] (the input's zero point is folded into
 * bias: padding holds the zero point); y = clamp(zq + R(acc, mult[l],
 * shift[l]), lo, 127), R as dst_q8_requant computes it.
 */
#ifndef DST_Q8_H
#define DST_Q8_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dst_q8_task {
  const int8_t *x;
  ptrdiff_t x_row, x_col;
  int ow, p0, p1;
  int8_t *y;          /* output pixel 0, first channel of the block */
  ptrdiff_t y_pix, y_row;
  int lanes;          /* valid output channels in the block (<= 16) */
  int zq, lo;         /* output zero point; lowest code (zq with a fused relu, else -128) */
  const int32_t *bias, *mult, *shift; /* 16 each */
  const int8_t *w;    /* the block's weight pairs */
  const int32_t *off;
  int n;
} dst_q8_task;

typedef void (*dst_q8_fn)(const dst_q8_task *t);

/* ops_q8.h's dst_q8_add; lut is its scratch. */
typedef void (*dst_q8_add_fn)(const int8_t *a, const int8_t *b, size_t n, int za, int zb, const int32_t *rq, int zo, int lo, int32_t *lut, int8_t *y);

typedef struct dst_q8_kernels {
  dst_q8_fn conv16;
  dst_q8_add_fn add; /* NULL: the portable dst_q8_add */
} dst_q8_kernels;

extern const dst_q8_kernels dst_q8_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const dst_q8_kernels dst_q8_avx2;
#endif
#if defined(__aarch64__)
extern const dst_q8_kernels dst_q8_neon;
#endif

/* The scalar kernel by name, for a microcontroller build's table. */
void dst_q8_scalar_conv16(const dst_q8_task *t);

/* R(x, mult, shift) = (x * mult + 2^(shift - 1)) >> shift in 64 bits, shift arithmetic: rounds half up. Files hold shift >= 31, so an int32 x gives an int32. */
static inline int64_t dst_q8_requant(int64_t x, int32_t mult, int32_t shift) {
  return (x * mult + ((int64_t)1 << (shift - 1))) >> shift;
}

static inline int8_t dst_q8_clamp(int32_t v, int lo) { return (int8_t)(v < lo ? lo : v > 127 ? 127 : v); }

/* roundf(t / s) + z as a code; |t / s| is bounded first, as a float beyond int's range has no defined conversion. */
static inline int8_t dst_q8_quantize(float t, float s, int z) {
  float r = t / s;
  r = r < -512.0f ? -512.0f : r > 512.0f ? 512.0f : r;
  return dst_q8_clamp((int32_t)roundf(r) + z, -128);
}

/* Lane l's code from its accumulator. */
static inline int8_t dst_q8_out(const dst_q8_task *t, int l, int32_t acc) {
  /* an int32 (shift >= 31), clamped before the zero point is added so that the sum cannot wrap */
  const int32_t r = (int32_t)dst_q8_requant(acc, t->mult[l], t->shift[l]);
  return (int8_t)(r < t->lo - t->zq ? t->lo : r > 127 - t->zq ? 127 : r + t->zq);
}

/* Output offset (from y) of output pixel p. */
static inline ptrdiff_t dst_q8_out_offset(const dst_q8_task *t, int p) {
  return (ptrdiff_t)(p / t->ow) * t->y_row + (ptrdiff_t)(p % t->ow) * t->y_pix;
}

/*
 * Window starts and output offsets of pixels p .. p + P - 1 (SIMD tiles): one
 * division per tile. The empty asm keeps GCC from rebuilding each pointer as
 * base + constant, an extra add per load (as dst_opaque_pixels, kernels.h).
 */
static inline void dst_q8_tile_pixels(const dst_q8_task *t, int p, int P, const int8_t **xp, ptrdiff_t *yo) {
  int oy = p / t->ow, ox = p % t->ow;
  for (int i = 0; i < P; i++) {
    xp[i] = t->x + (ptrdiff_t)oy * t->x_row + (ptrdiff_t)ox * t->x_col;
    yo[i] = (ptrdiff_t)oy * t->y_row + (ptrdiff_t)ox * t->y_pix;
    if (++ox == t->ow) ox = 0, oy++;
  }
#if defined(__GNUC__)
  for (int i = 0; i < P; i++) __asm__("" : "+r"(xp[i]));
#endif
}

/* Window start of output pixel p. */
static inline const int8_t *dst_q8_pixel(const dst_q8_task *t, int p) {
  return t->x + (ptrdiff_t)(p / t->ow) * t->x_row + (ptrdiff_t)(p % t->ow) * t->x_col;
}

#endif
