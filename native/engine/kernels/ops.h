/*
 * Portable layer kernels besides the conv micro-kernels: padding, im2col,
 * CSR and grouped convs, pooling and element-wise ops. NHWC, no allocation;
 * the ranged ones let a caller split the work over threads.
 */
#ifndef DST_OPS_H
#define DST_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* Copies an h x w x c image into an (h + 2ph) x (w + 2pw) x c buffer with zero borders. */
void dst_pad(const float *x, int h, int w, int c, int ph, int pw, float *out);
/* Rows [r0, r1) of dst_pad's output (rows of the padded image). */
void dst_pad_rows(const float *x, int h, int w, int c, int ph, int pw, int r0, int r1, float *out);
/* Zeroes the border (bh rows, bw columns) of an h x w x c image stored inside an (h + 2bh) x (w + 2bw) x c one, from its start x. */
void dst_zero_border(float *x, int h, int w, int c, int bh, int bw);

/*
 * One row of kpad floats per output pixel in (c, kh, kw) order, zero past
 * c * kh * kw. x is the (padded) input of width wp and c channels.
 */
void dst_im2col(const float *x, int wp, int c, int kh, int kw, int sh, int sw, int dh, int dw,
                int oh, int ow, int kpad, float *out);

/*
 * The rows8 input layout: rows and columns split by stride phase (fy, fx),
 * vector j < jq of channel ch in row r < hq of that phase at
 * out[((((fy * sw + fx) * jq + j) * c + ch) * hq + r) * 8]; lane k holds
 * padded row r * sh + fy, padded column (k * seg + j) * sw + fx (zero outside
 * the image). Rows innermost: a tile of output rows reads consecutive vectors.
 * Writes rows [r0, r1) of every (phase, vector, channel), so threads can share the work.
 */
void dst_rows_prep(const float *x, const dst_rows_geo *g, int r0, int r1, float *out);

/* Shared geometry of the ranged convs below; offsets in floats from a pixel's window origin. */
typedef struct dst_conv_geo {
  const float *x;
  ptrdiff_t x_row, x_col;
  int ow;
  float *y;
  ptrdiff_t y_pix, y_row; /* floats per output pixel, per output row (more than ow * y_pix: a zero border) */
  int relu;
  const float *bias;
  const float *res; /* NULL, or a residual laid out as y, added before relu */
} dst_conv_geo;

/* Unstructured sparse rows: channel o uses entries rowptr[o]..rowptr[o+1] of (off, val). */
void dst_conv_csr(const dst_conv_geo *g, int p0, int p1, int o0, int o1,
                  const int32_t *rowptr, const int32_t *off, const float *val);

/* Depthwise: channel c of the output reads channel c of the input; w[tap * c_total + c]. */
void dst_conv_depthwise(const dst_conv_geo *g, int p0, int p1, int channels, int taps, const int32_t *tap_off, const float *w);

/* Any group count: w[(o * taps + tap) * cg + c]; group of o reads input channels from (o / og) * cg. */
void dst_conv_grouped(const dst_conv_geo *g, int p0, int p1, int o, int og, int cg, int taps, const int32_t *tap_off, const float *w);

/* avg divides by kh * kw (padding counts, as PyTorch's default). */
void dst_pool2d(const float *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw,
              int oh, int ow, int is_max, float *y);
/* rows row floats apart: the input may keep a border */
void dst_global_avgpool(const float *x, int h, int w, ptrdiff_t row, int c, float *y);
void dst_add(const float *a, const float *b, size_t n, int relu, float *y);
void dst_relu(const float *x, size_t n, float *y);
void dst_softmax(const float *x, size_t n, float *y);
/* h x w x c to c x h x w. */
void dst_hwc_to_chw(const float *x, int h, int w, int c, float *y);

#endif
