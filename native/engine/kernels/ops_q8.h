/*
 * The int8 ops outside the conv kernels (uhp-format.md, version 2): portable
 * C that every target runs, so their results never depend on the ISA.
 * Activations are NHWC codes; z is a value's zero point.
 */
#ifndef DST_OPS_Q8_H
#define DST_OPS_Q8_H

#include <stddef.h>
#include <stdint.h>

#include "q8.h"

/* Sets the border of a [h, w, c] value stored with bh rows and bw columns around it to z: what padding reads. */
void dst_q8_fill_border(int8_t *x, int h, int w, int c, int bh, int bw, int8_t z);

/* Copies [h, w, c] x (rows x_row codes apart) into out with ph rows and pw columns of z around it. */
void dst_q8_pad(const int8_t *x, ptrdiff_t x_row, int h, int w, int c, int ph, int pw, int8_t z, int8_t *out);

/*
 * y = clamp(zo + R(R((a - za) * 2^20, ma, sa) + R((b - zb) * 2^20, mb, sb), mo, so), lo, 127); rq = {ma, sa, mb, sb, mo, so}.
 * The inner R of each input takes 256 values only, and the outer R's product
 * distributes over the sum: lut (DST_Q8_ADD_LUT ints) holds each input's
 * 256 values times mo (b's with R's rounding term), so an element costs two
 * loads, an add and a shift.
 */
#define DST_Q8_ADD_LUT 1024
void dst_q8_add(const int8_t *a, const int8_t *b, size_t n, int za, int zb, const int32_t *rq, int zo, int lo, int32_t *lut, int8_t *y);

void dst_q8_relu(const int8_t *x, size_t n, int z, int8_t *y);

/* Max (ignoring padding) or average (padding counted, divisor kh * kw, half away from zero) pooling of [h, w, c] x. */
void dst_q8_pool(const int8_t *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int is_max, int z,
                 int8_t *y);

/* Mean over the h * w pixels of each channel, rounded half away from zero. */
void dst_q8_global_avgpool(const int8_t *x, int h, int w, int c, int z, int8_t *y);

/* Output pixels [p0, p1) of an int8 grouped (or depthwise) conv: w is [o][tap][c], bias/mult/shift per output channel (q8.h's arithmetic). */
void dst_q8_conv_grouped(const dst_q8_task *t, int o, int og, int cg, int taps, const int32_t *tap_off);

void dst_q8_hwc_to_chw(const int8_t *x, int h, int w, int c, int8_t *y);

/* Rounding division by n > 0, half away from zero. */
static inline int32_t dst_q8_div_round(int64_t s, int32_t n) { return (int32_t)(s >= 0 ? (s + n / 2) / n : -((-s + n / 2) / n)); }

#endif
