#include "ops.h"

#include <float.h>
#include <math.h>
#include <string.h>

void dst_zero_border(float *x, int h, int w, int c, int bh, int bw) {
  const size_t row = (size_t)(w + 2 * bw) * c, side = (size_t)bw * c;
  memset(x, 0, (size_t)bh * row * sizeof(float));
  memset(x + (size_t)(bh + h) * row, 0, (size_t)bh * row * sizeof(float));
  for (int r = bh; r < bh + h; r++) {
    memset(x + r * row, 0, side * sizeof(float));
    memset(x + (r + 1) * row - side, 0, side * sizeof(float));
  }
}

void dst_pad_rows(const float *x, int h, int w, int c, int ph, int pw, int r0, int r1, float *out) {
  const size_t row = (size_t)(w + 2 * pw) * c;
  for (int r = r0; r < r1; r++) {
    float *o = out + (size_t)r * row;
    const int i = r - ph;
    if (i < 0 || i >= h) {
      memset(o, 0, row * sizeof(float));
      continue;
    }
    memset(o, 0, (size_t)pw * c * sizeof(float));
    memcpy(o + (size_t)pw * c, x + (size_t)i * w * c, (size_t)w * c * sizeof(float));
    memset(o + (size_t)(pw + w) * c, 0, (size_t)pw * c * sizeof(float));
  }
}

void dst_pad(const float *x, int h, int w, int c, int ph, int pw, float *out) {
  dst_pad_rows(x, h, w, c, ph, pw, 0, h + 2 * ph, out);
}

void dst_im2col(const float *x, int wp, int c, int kh, int kw, int sh, int sw, int dh, int dw,
                int oh, int ow, int kpad, float *out) {
  const int k = c * kh * kw;
  for (int oy = 0; oy < oh; oy++) {
    for (int ox = 0; ox < ow; ox++) {
      float *o = out + ((size_t)oy * ow + ox) * kpad;
      for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < kh; i++)
          for (int j = 0; j < kw; j++)
            *o++ = x[((size_t)(oy * sh + i * dh) * wp + (size_t)(ox * sw + j * dw)) * c + ch];
      for (int r = k; r < kpad; r++) *o++ = 0.0f;
    }
  }
}

void dst_rows_prep(const float *x, const dst_rows_geo *g, int r0, int r1, float *out) {
  for (int fy = 0; fy < g->sh; fy++)
    for (int fx = 0; fx < g->sw; fx++)
      for (int j = 0; j < g->jq; j++)
        for (int ch = 0; ch < g->c; ch++)
          for (int r = r0; r < r1; r++) {
            const int y = r * g->sh + fy - g->ph;
            float *o = out + ((((size_t)fy * g->sw + fx) * g->jq + j) * g->c + ch) * g->hq * 8 + (size_t)r * 8;
            for (int k = 0; k < 8; k++) {
              const int col = (k * g->seg + j) * g->sw + fx - g->pw;
              o[k] = y < 0 || y >= g->h || col < 0 || col >= g->w ? 0.0f : x[((size_t)y * g->w + col) * g->c + ch];
            }
          }
}

static const float *pixel(const dst_conv_geo *g, int p) {
  return g->x + (ptrdiff_t)(p / g->ow) * g->x_row + (ptrdiff_t)(p % g->ow) * g->x_col;
}

static ptrdiff_t out_offset(const dst_conv_geo *g, int p) {
  return (ptrdiff_t)(p / g->ow) * g->y_row + (ptrdiff_t)(p % g->ow) * g->y_pix;
}

void dst_conv_csr(const dst_conv_geo *g, int p0, int p1, int o0, int o1,
                  const int32_t *rowptr, const int32_t *off, const float *val) {
  enum { P = 8 };
  for (int p = p0; p < p1; p += P) {
    const int np = p1 - p < P ? p1 - p : P;
    const float *xp[P];
    for (int i = 0; i < np; i++) xp[i] = pixel(g, p + i);
    for (int o = o0; o < o1; o++) {
      float acc[P];
      for (int i = 0; i < P; i++) acc[i] = g->bias[o];
      for (int e = rowptr[o]; e < rowptr[o + 1]; e++) {
        const float v = val[e];
        const int32_t f = off[e];
        for (int i = 0; i < np; i++) acc[i] += v * xp[i][f];
      }
      for (int i = 0; i < np; i++) {
        const ptrdiff_t at = out_offset(g, p + i) + o;
        dst_store_lanes(g->y + at, g->res ? g->res + at : NULL, &acc[i], 1, g->relu);
      }
    }
  }
}

void dst_conv_depthwise(const dst_conv_geo *g, int p0, int p1, int channels, int taps, const int32_t *tap_off, const float *w) {
  for (int p = p0; p < p1; p++) {
    const float *x = pixel(g, p);
    const ptrdiff_t at = out_offset(g, p);
    float *y = g->y + at;
    for (int c = 0; c < channels; c++) y[c] = g->bias[c];
    for (int t = 0; t < taps; t++) {
      const float *xt = x + tap_off[t], *wt = w + (size_t)t * channels;
      for (int c = 0; c < channels; c++) y[c] += wt[c] * xt[c];
    }
    dst_store_lanes(y, g->res ? g->res + at : NULL, y, channels, g->relu);
  }
}

void dst_conv_grouped(const dst_conv_geo *g, int p0, int p1, int o, int og, int cg, int taps, const int32_t *tap_off, const float *w) {
  for (int p = p0; p < p1; p++) {
    const float *x = pixel(g, p);
    const ptrdiff_t at = out_offset(g, p);
    float *y = g->y + at;
    for (int oc = 0; oc < o; oc++) {
      const float *xg = x + (ptrdiff_t)(oc / og) * cg, *wo = w + (size_t)oc * taps * cg;
      float acc = g->bias[oc];
      for (int t = 0; t < taps; t++)
        for (int c = 0; c < cg; c++) acc += wo[t * cg + c] * xg[tap_off[t] + c];
      dst_store_lanes(y + oc, g->res ? g->res + at + oc : NULL, &acc, 1, g->relu);
    }
  }
}

/* One output pixel; restrict lets the channel loops vectorise. */
static void max_pixel(const float *restrict x, int w, int c, int iy0, int iy1, int ix0, int ix1, float *restrict o) {
  for (int ch = 0; ch < c; ch++) o[ch] = -FLT_MAX;
  for (int iy = iy0; iy < iy1; iy++)
    for (int ix = ix0; ix < ix1; ix++) {
      const float *restrict xi = x + ((size_t)iy * w + ix) * c;
      for (int ch = 0; ch < c; ch++) o[ch] = xi[ch] > o[ch] ? xi[ch] : o[ch];
    }
}

static void avg_pixel(const float *restrict x, int w, int c, int iy0, int iy1, int ix0, int ix1, float scale, float *restrict o) {
  for (int ch = 0; ch < c; ch++) o[ch] = 0.0f;
  for (int iy = iy0; iy < iy1; iy++)
    for (int ix = ix0; ix < ix1; ix++) {
      const float *restrict xi = x + ((size_t)iy * w + ix) * c;
      for (int ch = 0; ch < c; ch++) o[ch] += xi[ch];
    }
  for (int ch = 0; ch < c; ch++) o[ch] *= scale;
}

void dst_pool2d(const float *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw,
              int oh, int ow, int is_max, float *y) {
  const float scale = 1.0f / (float)(kh * kw);
  for (int oy = 0; oy < oh; oy++) {
    const int iy0 = oy * sh - ph < 0 ? 0 : oy * sh - ph, iy1 = oy * sh - ph + kh > h ? h : oy * sh - ph + kh;
    for (int ox = 0; ox < ow; ox++) {
      const int ix0 = ox * sw - pw < 0 ? 0 : ox * sw - pw, ix1 = ox * sw - pw + kw > w ? w : ox * sw - pw + kw;
      float *o = y + ((size_t)oy * ow + ox) * c;
      if (is_max) max_pixel(x, w, c, iy0, iy1, ix0, ix1, o);
      else avg_pixel(x, w, c, iy0, iy1, ix0, ix1, scale, o);
    }
  }
}

void dst_global_avgpool(const float *x, int h, int w, ptrdiff_t row, int c, float *y) {
  for (int ch = 0; ch < c; ch++) y[ch] = 0.0f;
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      for (int ch = 0; ch < c; ch++) y[ch] += x[i * row + (ptrdiff_t)j * c + ch];
  for (int ch = 0; ch < c; ch++) y[ch] /= (float)(h * w);
}

void dst_add(const float *a, const float *b, size_t n, int relu, float *y) {
  for (size_t i = 0; i < n; i++) {
    const float v = a[i] + b[i];
    y[i] = relu && v < 0.0f ? 0.0f : v;
  }
}

void dst_relu(const float *x, size_t n, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void dst_softmax(const float *x, size_t n, float *y) {
  float mx = -FLT_MAX;
  for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) {
    y[i] = expf(x[i] - mx);
    sum += y[i];
  }
  const float inv = (float)(1.0 / sum);
  for (size_t i = 0; i < n; i++) y[i] *= inv;
}

void dst_hwc_to_chw(const float *x, int h, int w, int c, float *y) {
  const size_t hw = (size_t)h * w;
  for (size_t p = 0; p < hw; p++)
    for (int ch = 0; ch < c; ch++) y[(size_t)ch * hw + p] = x[p * c + ch];
}
