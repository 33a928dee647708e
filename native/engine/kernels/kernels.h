/*
 * Conv micro-kernels, one set per ISA. Self-contained C (no allocation, no
 * globals) so the C code generator can copy these files verbatim.
 *
 * Activations are NHWC: one pixel's channels are contiguous. A task computes
 * output pixels [p0, p1) (row-major) for one block of output channels, which
 * sit in vector lanes; the input of output pixel p starts at
 * x + (p / ow) * x_row + (p % ow) * x_col, and a weight entry reads the float
 * at that start plus its offset.
 */
#ifndef DST_KERNELS_H
#define DST_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct dst_conv_task {
  const float *x;
  ptrdiff_t x_row, x_col;
  int ow, p0, p1;
  float *y;           /* output pixel 0, first channel of the block */
  ptrdiff_t y_pix;    /* floats per output pixel */
  ptrdiff_t y_row;    /* floats per output row: more than ow * y_pix when the output keeps a zero border */
  int lanes;          /* valid output channels in the block (<= block width) */
  int relu;
  const float *bias;  /* block width values */
  const float *w;     /* packed weights of the block */
  const int32_t *off; /* dense: tap offsets; sparse: entry offsets; gather: group offsets */
  int n_off;
  int cin;            /* dense: channels per tap; gather: kept per group (N); rows8: chunks */
  int m;              /* gather: group size (M) */
  const int32_t *idx; /* gather: position in the group per (group, kept, lane); rows8: entries per (chunk, lane, shape) */
  const float *res;   /* NULL, or a residual laid out as y, added before relu: a fused residual add */
} dst_conv_task;

/*
 * rows8 (UHP, own mask per channel): output pixels in lanes instead, so no
 * lane ever needs another lane's input and a kept weight is one broadcast.
 * An output row is cut into 8 segments of S = ceil(ow / 8) pixels, and
 * vector j (< S) holds pixel k * S + j in lane k (lanes past ow computed and
 * dropped). The input is rewritten to match (dst_rows_prep): input vectors
 * hold in lane k the input column of output pixel k * S + j, and consecutive
 * output rows read consecutive vectors, so a kernel tap only moves the load
 * by whole vectors, every load is aligned, and a tile of output rows is one
 * base pointer plus constant displacements. Tasks count in output rows.
 * Vector j of output row oy starts at x + j * x_col + 8 * oy.
 *
 * An entry is one input column (channel, kernel column, stride phase) and up
 * to 3 of its consecutive rows, by shape s < DST_ROWS_SHAPES: bit d of
 * 2 * s + 1 says row d is kept (rows {0}, {0,1}, {0,2}, {0,1,2}), so a tile
 * of V output rows loads V + span - 1 input vectors once for all the shape's
 * weights. Entries come in cin chunks (a chunk's inputs fit in L1; all 8
 * channels sweep them before the next chunk); within a chunk channel after
 * channel, within a channel shape after shape. idx[(k * 8 + l) * DST_ROWS_SHAPES
 * + s] counts channel l's entries of shape s in chunk k; off holds one offset
 * per entry (to its row 0 from the vector's start) and w its kept weights in
 * row order, both in that order, so a tile reads them in one forward sweep.
 * Stores go to NHWC through an 8 x 8 transpose.
 */
#define DST_ROWS_SHAPES 4

/* Geometry of the rows8 input layout (see dst_rows_prep in ops.h). */
typedef struct dst_rows_geo {
  int h, w, c;          /* unpadded input */
  int ph, pw, sh, sw;
  int seg;              /* S: output pixels per lane of an output row */
  int jq, hq;           /* vectors per column phase, rows per row phase */
} dst_rows_geo;

/*
 * dense16:  w[(tap * cin + c) * 16 + lane], input offset off[tap] + c.
 * sparse16: w[e * 16 + lane] at input offset off[e]  (UHP with 16 output channels sharing a mask).
 * sparse8:  w[e * 8 + lane] at input offset off[e]   (UHP with 8 sharing a mask).
 * gather8:  group g starts at input offset off[g]; kept k of lane l reads position
 *           idx[(g * cin + k) * 8 + l] of it with weight w[(g * cin + k) * 8 + l] (UHP, own mask per channel).
 */
typedef void (*dst_conv_fn)(const dst_conv_task *t);

typedef struct dst_kernels {
  dst_conv_fn dense16, sparse16, sparse8, gather8;
  /* NULL when the set has none: the planner then uses gather8. */
  dst_conv_fn rows8;
  /* Writes rows [r0, r1) of rows8's input layout as dst_rows_prep in ops.h does. */
  void (*rows_prep)(const float *x, const dst_rows_geo *g, int r0, int r1, float *out);
  /* Unpadded max pooling as dst_pool2d in ops.h computes it; NULL: use that. */
  void (*maxpool)(const float *x, int w, int c, int kh, int kw, int sh, int sw, int oh, int ow, float *y);
  /* Group sizes the gather8 kernel handles; gather8_any runs the others. */
  int gather_m_mask;
  dst_conv_fn gather8_any;
} dst_kernels;

/*
 * The scalar set's kernels by name, so a microcontroller build can list
 * only those its plan uses (dst_plan_kernels_used in plan.h) and the linker
 * drops the rest.
 */
void dst_scalar_dense16(const dst_conv_task *t);
void dst_scalar_sparse16(const dst_conv_task *t);
void dst_scalar_sparse8(const dst_conv_task *t);
void dst_scalar_gather8(const dst_conv_task *t);
void dst_scalar_rows8(const dst_conv_task *t);

extern const dst_kernels dst_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const dst_kernels dst_kernels_avx2;
extern const dst_kernels dst_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const dst_kernels dst_kernels_neon;
#endif

/* Input starts and output offsets (from y) of output pixels p .. p + P - 1: one division per tile, not per pixel. */
static inline void dst_tile_pixels(const dst_conv_task *t, int p, int P, const float **xp, ptrdiff_t *yo) {
  int oy = p / t->ow, ox = p % t->ow;
  for (int i = 0; i < P; i++) {
    xp[i] = t->x + (ptrdiff_t)oy * t->x_row + (ptrdiff_t)ox * t->x_col;
    yo[i] = (ptrdiff_t)oy * t->y_row + (ptrdiff_t)ox * t->y_pix;
    if (++ox == t->ow) ox = 0, oy++;
  }
}

/* Output offset (from y) of output pixel p. */
static inline ptrdiff_t dst_out_offset(const dst_conv_task *t, int p) {
  return (ptrdiff_t)(p / t->ow) * t->y_row + (ptrdiff_t)(p % t->ow) * t->y_pix;
}

/*
 * Hides the pixel pointers' origin from the optimiser. Left to itself, GCC
 * rebuilds each as the tile base plus a constant, and then every load at a
 * sparse entry's offset costs an extra address add (AVX2 sparse16: 30 instead
 * of 23 instructions per 12 FMAs; measured 12-17% of its time, sparse8 ~20%).
 */
static inline void dst_opaque_pixels(const float **xp, int P) {
#if defined(__GNUC__)
  for (int i = 0; i < P; i++) __asm__("" : "+r"(xp[i]));
#else
  (void)xp, (void)P;
#endif
}

/* Shared epilogue helper: bias is added at tile start; a residual, relu and partial blocks at store. */
static inline void dst_store_lanes(float *y, const float *res, const float *acc, int lanes, int relu) {
  for (int l = 0; l < lanes; l++) {
    const float v = res ? acc[l] + res[l] : acc[l];
    y[l] = relu && v < 0.0f ? 0.0f : v;
  }
}

#endif
