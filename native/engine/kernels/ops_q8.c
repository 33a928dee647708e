#include "ops_q8.h"

#include <string.h>

#include "q8.h"

void dst_q8_fill_border(int8_t *x, int h, int w, int c, int bh, int bw, int8_t z) {
  const size_t row = (size_t)(w + 2 * bw) * c;
  for (int i = 0; i < h + 2 * bh; i++) {
    int8_t *r = x + i * row;
    if (i < bh || i >= h + bh) {
      memset(r, z, row);
      continue;
    }
    memset(r, z, (size_t)bw * c);
    memset(r + (size_t)(bw + w) * c, z, (size_t)bw * c);
  }
}

void dst_q8_pad(const int8_t *x, ptrdiff_t x_row, int h, int w, int c, int ph, int pw, int8_t z, int8_t *out) {
  const size_t row = (size_t)(w + 2 * pw) * c;
  dst_q8_fill_border(out, h, w, c, ph, pw, z);
  for (int i = 0; i < h; i++) memcpy(out + (i + ph) * row + (size_t)pw * c, x + i * x_row, (size_t)w * c);
}

/* Table entries are int64, stored bytewise: the scratch is an int32 array. */
static void put64(unsigned char *t, int i, int64_t v) { memcpy(t + 8 * i, &v, 8); }
static int64_t get64(const unsigned char *t, int i) {
  int64_t v;
  memcpy(&v, t + 8 * i, 8);
  return v;
}

void dst_q8_add(const int8_t *a, const int8_t *b, size_t n, int za, int zb, const int32_t *rq, int zo, int lo, int32_t *lut, int8_t *y) {
  unsigned char *ta = (unsigned char *)lut, *tb = ta + 256 * 8;
  const int64_t mo = rq[4], round = (int64_t)1 << (rq[5] - 1);
  for (int v = -128; v < 128; v++) {
    /* |v - z| * 2^20 < 2^28 times a factor below 1, times mo < 2^31: the sum of two stays below 2^60 */
    put64(ta, v + 128, dst_q8_requant((int64_t)(v - za) * (1 << 20), rq[0], rq[1]) * mo);
    put64(tb, v + 128, dst_q8_requant((int64_t)(v - zb) * (1 << 20), rq[2], rq[3]) * mo + round);
  }
  /* the zero point is added after the clamp, |r| < 2^29 */
  const int so = rq[5], rlo = lo - zo, rhi = 127 - zo;
  const unsigned char *ma = ta + 128 * 8, *mb = tb + 128 * 8; /* indexed by the signed code */
  for (size_t i = 0; i < n; i++) {
    int32_t r = (int32_t)((get64(ma, a[i]) + get64(mb, b[i])) >> so);
    /* two plain selects become conditional moves: with a fused relu about half the elements clamp, a branch would mispredict */
    r = r < rlo ? rlo : r;
    r = r > rhi ? rhi : r;
    y[i] = (int8_t)(r + zo);
  }
}

void dst_q8_relu(const int8_t *x, size_t n, int z, int8_t *y) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] < z ? (int8_t)z : x[i];
}

/*
 * Max pooling, channel-innermost, which compilers vectorize. The common case
 * (channels in 16s, the window inside the input) keeps each running maximum
 * in one 16-code vector and tests no bounds; the rest skip what lies outside.
 */
static void max_pool(const int8_t *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int8_t *y) {
  for (int oy = 0; oy < oh; oy++) {
    const int y0 = oy * sh - ph;
    const int rows_inside = y0 >= 0 && y0 + kh <= h;
    for (int ox = 0; ox < ow; ox++) {
      const int x0 = ox * sw - pw;
      int8_t *restrict out = y + ((size_t)oy * ow + ox) * c;
      if (c % 16 == 0 && rows_inside && x0 >= 0 && x0 + kw <= w) {
        for (int ch = 0; ch < c; ch += 16) {
          const int8_t *win = x + ((size_t)y0 * w + x0) * c + ch;
          int8_t m[16];
          memcpy(m, win, 16);
          for (int i = 0; i < kh; i++)
            for (int j = i == 0; j < kw; j++) {
              const int8_t *in = win + ((size_t)i * w + j) * c;
              for (int k = 0; k < 16; k++) m[k] = in[k] > m[k] ? in[k] : m[k];
            }
          memcpy(out + ch, m, 16);
        }
        continue;
      }
      memset(out, -128, (size_t)c);
      for (int i = 0; i < kh; i++) {
        const int iy = y0 + i;
        if (iy < 0 || iy >= h) continue;
        for (int j = 0; j < kw; j++) {
          const int ix = x0 + j;
          if (ix < 0 || ix >= w) continue;
          const int8_t *restrict in = x + ((size_t)iy * w + ix) * c;
          for (int ch = 0; ch < c; ch++) out[ch] = in[ch] > out[ch] ? in[ch] : out[ch];
        }
      }
    }
  }
}

void dst_q8_pool(const int8_t *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int is_max, int z,
                 int8_t *y) {
  if (is_max) {
    max_pool(x, h, w, c, kh, kw, sh, sw, ph, pw, oh, ow, y);
    return;
  }
  for (int oy = 0; oy < oh; oy++)
    for (int ox = 0; ox < ow; ox++)
      for (int ch = 0; ch < c; ch++) {
        int64_t sum = 0;
        for (int i = 0; i < kh; i++) {
          const int iy = oy * sh - ph + i;
          if (iy < 0 || iy >= h) continue;
          for (int j = 0; j < kw; j++) {
            const int ix = ox * sw - pw + j;
            if (ix < 0 || ix >= w) continue;
            sum += x[((size_t)iy * w + ix) * c + ch] - z;
          }
        }
        y[((size_t)oy * ow + ox) * c + ch] = dst_q8_clamp(z + dst_q8_div_round(sum, kh * kw), -128);
      }
}

void dst_q8_global_avgpool(const int8_t *x, int h, int w, int c, int z, int8_t *y) {
  for (int ch = 0; ch < c; ch++) {
    int64_t sum = 0;
    for (int p = 0; p < h * w; p++) sum += x[(size_t)p * c + ch] - z;
    y[ch] = dst_q8_clamp(z + dst_q8_div_round(sum, h * w), -128);
  }
}

void dst_q8_hwc_to_chw(const int8_t *x, int h, int w, int c, int8_t *y) {
  for (int p = 0; p < h * w; p++)
    for (int ch = 0; ch < c; ch++) y[(size_t)ch * h * w + p] = x[(size_t)p * c + ch];
}

void dst_q8_conv_grouped(const dst_q8_task *t, int o, int og, int cg, int taps, const int32_t *tap_off) {
  for (int p = t->p0; p < t->p1; p++) {
    const int8_t *x = dst_q8_pixel(t, p);
    int8_t *y = t->y + dst_q8_out_offset(t, p);
    for (int oc = 0; oc < o; oc++) {
      const int8_t *xg = x + oc / og * cg, *w = t->w + (size_t)oc * taps * cg;
      int32_t acc = t->bias[oc];
      for (int k = 0; k < taps; k++)
        for (int c = 0; c < cg; c++) acc += xg[tap_off[k] + c] * w[k * cg + c];
      y[oc] = dst_q8_out(t, oc, acc);
    }
  }
}
