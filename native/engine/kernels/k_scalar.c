/* Portable reference kernels: the fallback path and the yardstick every SIMD path is tested against. */
#include "kernels.h"
#include "ops.h"

static const float *pixel(const dst_conv_task *t, int p) {
  return t->x + (ptrdiff_t)(p / t->ow) * t->x_row + (ptrdiff_t)(p % t->ow) * t->x_col;
}

void dst_scalar_dense16(const dst_conv_task *t) {
  for (int p = t->p0; p < t->p1; p++) {
    const float *x = pixel(t, p);
    float acc[16];
    for (int l = 0; l < 16; l++) acc[l] = t->bias[l];
    const float *w = t->w;
    for (int tap = 0; tap < t->n_off; tap++) {
      const float *xt = x + t->off[tap];
      for (int c = 0; c < t->cin; c++, w += 16)
        for (int l = 0; l < 16; l++) acc[l] += xt[c] * w[l];
    }
    const ptrdiff_t at = dst_out_offset(t, p);
    dst_store_lanes(t->y + at, t->res ? t->res + at : NULL, acc, t->lanes, t->relu);
  }
}

static void sparse(const dst_conv_task *t, int width) {
  for (int p = t->p0; p < t->p1; p++) {
    const float *x = pixel(t, p);
    float acc[16];
    for (int l = 0; l < width; l++) acc[l] = t->bias[l];
    for (int e = 0; e < t->n_off; e++) {
      float xv = x[t->off[e]];
      const float *w = t->w + (ptrdiff_t)e * width;
      for (int l = 0; l < width; l++) acc[l] += xv * w[l];
    }
    const ptrdiff_t at = dst_out_offset(t, p);
    dst_store_lanes(t->y + at, t->res ? t->res + at : NULL, acc, t->lanes, t->relu);
  }
}

void dst_scalar_sparse16(const dst_conv_task *t) { sparse(t, 16); }
void dst_scalar_sparse8(const dst_conv_task *t) { sparse(t, 8); }

void dst_scalar_gather8(const dst_conv_task *t) {
  for (int p = t->p0; p < t->p1; p++) {
    const float *x = pixel(t, p);
    float acc[8];
    for (int l = 0; l < 8; l++) acc[l] = t->bias[l];
    for (int g = 0; g < t->n_off; g++) {
      const float *xg = x + t->off[g];
      const int32_t *idx = t->idx + (ptrdiff_t)g * t->cin * 8;
      const float *w = t->w + (ptrdiff_t)g * t->cin * 8;
      for (int k = 0; k < t->cin * 8; k++) acc[k & 7] += xg[idx[k]] * w[k];
    }
    const ptrdiff_t at = dst_out_offset(t, p);
    dst_store_lanes(t->y + at, t->res ? t->res + at : NULL, acc, t->lanes, t->relu);
  }
}

void dst_scalar_rows8(const dst_conv_task *t) {
  const int seg = (t->ow + 7) / 8;
  for (int oy = t->p0; oy < t->p1; oy++)
    for (int jv = 0; jv < seg; jv++) {
      const float *x = t->x + jv * t->x_col + 8 * (ptrdiff_t)oy;
      float acc[8][8];
      for (int l = 0; l < 8; l++)
        for (int k = 0; k < 8; k++) acc[l][k] = l < t->lanes ? t->bias[l] : 0.0f;
      const int32_t *off = t->off;
      const float *w = t->w;
      for (int c = 0; c < t->cin; c++)
        for (int l = 0; l < t->lanes; l++)
          for (int s = 0; s < DST_ROWS_SHAPES; s++)
            for (int e = t->idx[(c * 8 + l) * DST_ROWS_SHAPES + s]; e > 0; e--, off++)
              for (int d = 0; d < 3; d++) {
                if (!((2 * s + 1) >> d & 1)) continue;
                for (int k = 0; k < 8; k++) acc[l][k] += x[*off + 8 * d + k] * *w;
                w++;
              }
      for (int k = 0; k < 8 && k * seg + jv < t->ow; k++) {
        float px[8];
        for (int l = 0; l < 8; l++) px[l] = acc[l][k];
        const ptrdiff_t at = (ptrdiff_t)oy * t->y_row + (ptrdiff_t)(k * seg + jv) * t->y_pix;
        dst_store_lanes(t->y + at, t->res ? t->res + at : NULL, px, t->lanes, t->relu);
      }
    }
}

const dst_kernels dst_kernels_scalar = {dst_scalar_dense16, dst_scalar_sparse16, dst_scalar_sparse8, dst_scalar_gather8, dst_scalar_rows8,
                                         dst_rows_prep, NULL, 0x1fffc, dst_scalar_gather8};
