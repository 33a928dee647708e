/* Per-path weight packers (layouts in kernels.h); compact UHP keeps the file's pattern indices. */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *base;
  size_t used;
} carver;

/* count elements of `size` bytes, 64-byte aligned; the count is kept for dst_pack_counts */
static void *carve(carver *c, size_t *kept_count, size_t size, size_t count) {
  const size_t at = (c->used + 63) & ~(size_t)63;
  c->used = at + size * count;
  *kept_count = count;
  return c->base ? c->base + at : NULL;
}

/* Offset of input (c, tap) from a window origin in the (padded) NHWC input, or in an im2col row. */
static int32_t in_offset(const dst_step *s, const dst_node *nd, int c, int tap) {
  if (s->im2col) return c * nd->kh * nd->kw + tap;
  const int i = tap / nd->kw, j = tap % nd->kw;
  return (int32_t)(((long)i * nd->dh * s->wp + (long)j * nd->dw) * s->cin_total + c);
}

/* Kept positions (ascending j) of group g for output channel o; returns their count. */
static int kept(const dst_node *nd, int o, int g, int *js) {
  const uint8_t *mk = nd->mask + ((size_t)(o / nd->block) * dst_uhp_groups(nd) + g) * nd->m;
  int n = 0;
  for (int j = 0; j < nd->m; j++)
    if (mk[j]) js[n++] = j;
  return n;
}

/* Input offset of position j of group g (flat groups index an im2col row directly when there is one). */
static int32_t group_offset(const dst_step *s, const dst_node *nd, int g, int j) {
  if (s->im2col) return g * nd->m + j;
  if (nd->flat) {
    const int pos = dst_uhp_position(nd, g, j), taps = nd->kh * nd->kw;
    return pos < 0 ? 0 : in_offset(s, nd, pos / taps, pos % taps);
  }
  const int per_tap = nd->cg / nd->m;
  return in_offset(s, nd, (g % per_tap) * nd->m + j, g / per_tap);
}

static float weight_at(const dst_node *nd, int o, int pos) {
  return pos < 0 || o >= nd->o ? 0.0f : nd->dense[(size_t)o * nd->cg * nd->kh * nd->kw + pos];
}

/* ---- rows8 ---- */

/* rows8 chunks: a kernel column reads one vector column per channel, so a few columns' inputs fit in L1. */
static int rows_chunk(const dst_step *s, const dst_node *nd, int pos) { return pos % (nd->kh * nd->kw) % nd->kw / s->kx_chunk; }

/* A kept weight in the rows8 layout: its input column (vector offset without the row) and its row there. */
typedef struct {
  long col;
  int row;
  float w;
} rows_tap;

static int rows_tap_cmp(const void *a, const void *b) {
  const rows_tap *x = a, *y = b;
  if (x->col != y->col) return x->col < y->col ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

/* Shape (kernels.h) of the entry that starts at taps[i], taking its column's kept rows up to 2 below; returns how many it takes. */
static int rows_take(const rows_tap *taps, int n, int i, int *shape) {
  int bits = 1;
  for (int j = i + 1; j < n && taps[j].col == taps[i].col && taps[j].row - taps[i].row <= 2; j++) bits |= 1 << (taps[j].row - taps[i].row);
  *shape = bits >> 1;
  return bits == 7 ? 3 : bits == 1 ? 1 : 2;
}

/*
 * Output channel o's kept weights of chunk k as rows8 entries (kernels.h),
 * appended to off and w (when given) by shape, each shape's entries by
 * offset; counts per shape into cnt. A column's kept rows go greedily from
 * the top into the widest shape that fits, so a tile loads an input vector
 * once for all the weights that read it.
 */
static void rows_entries(const dst_step *s, const dst_node *nd, int o, int k, rows_tap *taps, int32_t *off, float *w, int32_t *cnt) {
  const dst_rows_geo *g = &s->rg;
  const int nt = nd->kh * nd->kw;
  int n = 0;
  for (int gr = 0; gr < dst_uhp_groups(nd); gr++) {
    int js[16];
    const int kn = kept(nd, o, gr, js);
    for (int i = 0; i < kn; i++) {
      const int pos = dst_uhp_position(nd, gr, js[i]);
      if (pos < 0 || rows_chunk(s, nd, pos) != k) continue; /* a flat group's padding holds nothing */
      const int c = pos / nt, ky = pos % nt / nd->kw * nd->dh, kx = pos % nt % nd->kw * nd->dw;
      taps[n++] = (rows_tap){((long)(ky % g->sh * g->sw + kx % g->sw) * g->jq + kx / g->sw) * g->c + c, ky / g->sh, weight_at(nd, o, pos)};
    }
  }
  qsort(taps, (size_t)n, sizeof *taps, rows_tap_cmp);
  for (int want = 0; want < DST_ROWS_SHAPES; want++) {
    cnt[want] = 0;
    for (int i = 0, shape, rows; i < n; i += rows) {
      rows = rows_take(taps, n, i, &shape);
      if (shape != want) continue;
      cnt[shape]++;
      if (!off) continue;
      *off++ = (int32_t)((taps[i].col * g->hq + taps[i].row) * 8);
      for (int r = 0; r < rows; r++) *w++ = taps[i + r].w;
    }
  }
}

/*
 * Walks the rows8 entries in the order a tile reads them: chunk after chunk,
 * channel after channel. With fill 0 it only sizes the arrays (the most any
 * block needs); with fill 1, it fills them.
 */
static void rows_layout(dst_step *s, const dst_node *nd, rows_tap *taps, int fill, int32_t *off, float *w, int32_t *idx) {
  size_t most_off = 0, most_w = 0;
  for (int b = 0; b < s->nblocks; b++) {
    size_t n_off = 0, n_w = 0;
    for (int k = 0; k < s->cin; k++)
      for (int l = 0; l < 8 && b * 8 + l < nd->o; l++) {
        int32_t counted[DST_ROWS_SHAPES];
        int32_t *cnt = fill ? idx + b * s->idx_bstride + ((size_t)k * 8 + l) * DST_ROWS_SHAPES : counted;
        rows_entries(s, nd, b * 8 + l, k, taps, fill ? off + b * s->off_bstride + n_off : NULL, fill ? w + b * s->w_bstride + n_w : NULL, cnt);
        for (int shape = 0; shape < DST_ROWS_SHAPES; shape++) {
          n_off += (size_t)cnt[shape];
          n_w += (size_t)cnt[shape] * (shape == 3 ? 3 : shape ? 2 : 1);
        }
      }
    most_off = n_off > most_off ? n_off : most_off;
    most_w = n_w > most_w ? n_w : most_w;
  }
  if (!fill) s->off_bstride = (ptrdiff_t)most_off, s->w_bstride = (ptrdiff_t)most_w;
}

/* ---- the packers: layout (strides, arrays carved) then fill ---- */

typedef struct {
  float *w, *bias;
  int32_t *off, *idx, *rowptr;
  uint8_t *pidx, *kept;
  int8_t *qw;
  int32_t *qbias, *qreq;
} arrays;


typedef struct {
  const dst_plan *p;
  dst_step *s;
  const dst_node *nd;
  arrays a;
  dst_pack_counts n;
  void *scratch;
} job;

/* Each kernel tap's offset from a window origin: where its first input channel sits. */
static void tap_offsets(job *j) {
  for (int t = 0; t < j->nd->kh * j->nd->kw; t++) j->a.off[t] = in_offset(j->s, j->nd, 0, t);
}

static void layout_dense(job *j, carver *c) {
  dst_step *s = j->s;
  const int taps = j->nd->kh * j->nd->kw;
  s->n_off = taps, s->cin = j->nd->cg;
  s->w_bstride = (ptrdiff_t)taps * j->nd->cg * 16;
  j->a.w = carve(c, &j->n.w, sizeof(float), (size_t)s->w_bstride * s->nblocks);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), taps);
}

static void fill_dense(job *j) {
  const dst_node *nd = j->nd;
  const dst_step *s = j->s;
  const int taps = nd->kh * nd->kw;
  tap_offsets(j);
  for (int b = 0; b < s->nblocks; b++)
    for (int t = 0; t < taps; t++)
      for (int ch = 0; ch < nd->cg; ch++)
        for (int l = 0; l < 16; l++) j->a.w[b * s->w_bstride + ((size_t)t * nd->cg + ch) * 16 + l] = weight_at(nd, b * 16 + l, ch * taps + t);
}

/* Compact UHP: the pattern index of every (pattern block, group), bit-packed LSB first as in .uhp, and what each index keeps. */
static void layout_pattern(job *j, carver *c) {
  dst_step *s = j->s;
  const dst_node *nd = j->nd;
  s->bits = dst_uhp_bits(nd->m, nd->n);
  s->n_groups = dst_uhp_groups(nd);
  const size_t blocks = (size_t)(nd->o + nd->block - 1) / nd->block;
  j->a.pidx = carve(c, &j->n.pidx, 1, (blocks * s->n_groups * s->bits + 7) / 8);
  j->a.kept = carve(c, &j->n.kept, 1, (size_t)dst_uhp_patterns(nd->m, nd->n) * nd->n);
}

static void fill_pattern(job *j) {
  const dst_node *nd = j->nd;
  uint16_t *combos = j->scratch;
  const int count = dst_uhp_combinations(nd->m, nd->n, combos), groups = dst_uhp_groups(nd), bits = j->s->bits;
  for (int i = 0; i < count; i++)
    for (int k = 0, pos = 0; pos < nd->m; pos++)
      if ((combos[i] >> pos) & 1) j->a.kept[i * nd->n + k++] = (uint8_t)pos;
  size_t bit = 0;
  for (int b = 0; b < (nd->o + nd->block - 1) / nd->block; b++)
    for (int g = 0; g < groups; g++) {
      const uint8_t *mk = nd->mask + ((size_t)b * groups + g) * nd->m;
      uint16_t mask = 0;
      for (int pos = 0; pos < nd->m; pos++) mask |= (uint16_t)(mk[pos] << pos);
      int rank = 0;
      while (rank < count - 1 && combos[rank] != mask) rank++;
      for (int i = 0; i < bits; i++, bit++)
        if ((rank >> i) & 1) j->a.pidx[bit >> 3] |= (uint8_t)(1u << (bit & 7));
    }
}

/* Compact UHP with a shared mask: the group start offsets (kernels.h's sparse layout from pattern indices) and the indices. */
static void fill_compact(job *j) {
  const dst_node *nd = j->nd;
  if (nd->flat)
    for (int g = 0; g < dst_uhp_groups(nd); g++)
      for (int pos = 0; pos < nd->m; pos++) j->a.off[g * nd->m + pos] = group_offset(j->s, nd, g, pos);
  else
    tap_offsets(j);
  fill_pattern(j);
}

static void layout_sparse(job *j, carver *c) {
  dst_step *s = j->s;
  const dst_node *nd = j->nd;
  s->n_off = dst_uhp_groups(nd) * nd->n;
  s->w_bstride = (ptrdiff_t)s->n_off * s->ob;
  j->a.w = carve(c, &j->n.w, sizeof(float), (size_t)s->w_bstride * s->nblocks);
  if (j->p->compact) {
    /*
     * Channel groups: one offset per kernel tap, as a group starts at its
     * tap's offset plus its first channel; flat groups (not contiguous):
     * every position's own offset.
     */
    j->a.off = carve(c, &j->n.off, sizeof(int32_t), nd->flat ? (size_t)dst_uhp_groups(nd) * nd->m : (size_t)nd->kh * nd->kw);
    layout_pattern(j, c);
  } else {
    s->off_bstride = s->n_off;
    j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)s->off_bstride * s->nblocks);
  }
}

static void fill_sparse(job *j) {
  const dst_node *nd = j->nd;
  const dst_step *s = j->s;
  const int groups = dst_uhp_groups(nd);
  for (int b = 0; b < s->nblocks; b++) {
    int e = 0;
    for (int g = 0; g < groups; g++) {
      int js[16];
      const int n = kept(nd, b * s->ob, g, js);
      for (int k = 0; k < n; k++, e++) {
        if (!j->p->compact) j->a.off[b * s->off_bstride + e] = group_offset(s, nd, g, js[k]);
        for (int l = 0; l < s->ob; l++)
          j->a.w[b * s->w_bstride + (size_t)e * s->ob + l] = weight_at(nd, b * s->ob + l, dst_uhp_position(nd, g, js[k]));
      }
    }
  }
  if (!j->p->compact) return;
  fill_compact(j);
}

static void layout_gather(job *j, carver *c) {
  dst_step *s = j->s;
  const dst_node *nd = j->nd;
  s->n_off = dst_uhp_groups(nd), s->cin = nd->n;
  s->w_bstride = (ptrdiff_t)s->n_off * nd->n * 8;
  j->a.w = carve(c, &j->n.w, sizeof(float), (size_t)s->w_bstride * s->nblocks);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), s->n_off);
  if (j->p->compact) {
    layout_pattern(j, c);
  } else {
    s->idx_bstride = s->w_bstride;
    j->a.idx = carve(c, &j->n.idx, sizeof(int32_t), (size_t)s->idx_bstride * s->nblocks);
  }
}

static void fill_gather(job *j) {
  const dst_node *nd = j->nd;
  const dst_step *s = j->s;
  const int groups = dst_uhp_groups(nd);
  for (int g = 0; g < groups; g++) j->a.off[g] = group_offset(s, nd, g, 0);
  for (int b = 0; b < s->nblocks; b++)
    for (int l = 0; l < 8; l++) {
      const int o = b * 8 + l;
      for (int g = 0; g < groups; g++) {
        int js[16] = {0};
        if (o < nd->o) kept(nd, o, g, js);
        for (int k = 0; k < nd->n; k++) {
          const size_t at = b * s->w_bstride + ((size_t)g * nd->n + k) * 8 + l;
          if (j->a.idx) j->a.idx[at] = js[k];
          j->a.w[at] = o < nd->o ? weight_at(nd, o, dst_uhp_position(nd, g, js[k])) : 0.0f;
        }
      }
    }
  if (j->p->compact) fill_pattern(j);
}

static void layout_rows(job *j, carver *c) {
  dst_step *s = j->s;
  if (!c->base) rows_layout(s, j->nd, j->scratch, 0, NULL, NULL, NULL);
  s->idx_bstride = (ptrdiff_t)s->cin * 8 * DST_ROWS_SHAPES;
  j->a.w = carve(c, &j->n.w, sizeof(float), (size_t)s->w_bstride * s->nblocks);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)s->off_bstride * s->nblocks);
  j->a.idx = carve(c, &j->n.idx, sizeof(int32_t), (size_t)s->idx_bstride * s->nblocks);
}

static void fill_rows(job *j) { rows_layout(j->s, j->nd, j->scratch, 1, j->a.off, j->a.w, j->a.idx); }

static size_t nonzeros(const dst_node *nd) {
  size_t nnz = 0;
  for (size_t i = 0; i < (size_t)nd->cg * nd->kh * nd->kw * nd->o; i++) nnz += nd->dense[i] != 0.0f;
  return nnz;
}

static void layout_csr(job *j, carver *c) {
  const size_t nnz = nonzeros(j->nd);
  j->s->n_off = (int)nnz;
  j->a.w = carve(c, &j->n.w, sizeof(float), nnz);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), nnz);
  j->a.rowptr = carve(c, &j->n.rowptr, sizeof(int32_t), (size_t)(j->nd->o + 1));
}

static void fill_csr(job *j) {
  const dst_node *nd = j->nd;
  const int taps = nd->kh * nd->kw, per_out = nd->cg * taps;
  int e = 0;
  for (int o = 0; o < nd->o; o++) {
    j->a.rowptr[o] = e;
    for (int ch = 0; ch < nd->cg; ch++)
      for (int t = 0; t < taps; t++) {
        const float v = nd->dense[(size_t)o * per_out + ch * taps + t];
        if (v == 0.0f) continue;
        j->a.w[e] = v;
        j->a.off[e++] = in_offset(j->s, nd, ch, t);
      }
  }
  j->a.rowptr[nd->o] = e;
}

/* depthwise and grouped: [o][tap][c] (depthwise: [tap][o]) */
static void layout_grouped(job *j, carver *c) {
  const dst_node *nd = j->nd;
  j->a.w = carve(c, &j->n.w, sizeof(float), (size_t)nd->cg * nd->kh * nd->kw * nd->o);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)nd->kh * nd->kw);
}

static void fill_depthwise(job *j) {
  const dst_node *nd = j->nd;
  const int taps = nd->kh * nd->kw;
  tap_offsets(j);
  for (int t = 0; t < taps; t++)
    for (int o = 0; o < nd->o; o++) j->a.w[(size_t)t * nd->o + o] = nd->dense[(size_t)o * taps + t];
}

static void fill_grouped(job *j) {
  const dst_node *nd = j->nd;
  const int taps = nd->kh * nd->kw, per_out = nd->cg * taps;
  tap_offsets(j);
  for (int o = 0; o < nd->o; o++)
    for (int t = 0; t < taps; t++)
      for (int ch = 0; ch < nd->cg; ch++) j->a.w[((size_t)o * taps + t) * nd->cg + ch] = nd->dense[(size_t)o * per_out + ch * taps + t];
}

/* ---- int8 (kernels/q8.h): entries in pairs, 16 lanes; dense16 takes every (tap, channel) as an entry ---- */

/* Entry e of a dense int8 layer: tap-major, channels within, as the NHWC input lies. */
static int q8_dense_pos(const dst_node *nd, int e) { return e % nd->cg * nd->kh * nd->kw + e / nd->cg; }

/* int8 grouped and depthwise: [o][tap][c] weights, per output channel its bias, then all multipliers, then all shifts. */
static void layout_q8_grouped(job *j, carver *c) {
  const dst_node *nd = j->nd;
  j->a.qw = carve(c, &j->n.qw, 1, (size_t)nd->cg * nd->kh * nd->kw * nd->o);
  j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)nd->kh * nd->kw);
  j->a.qbias = carve(c, &j->n.qbias, sizeof(int32_t), (size_t)nd->o);
  j->a.qreq = carve(c, &j->n.qreq, sizeof(int32_t), 2 * (size_t)nd->o);
}

static void layout_q8(job *j, carver *c) {
  dst_step *s = j->s;
  const dst_node *nd = j->nd;
  const int dense = s->path == DST_PATH_DENSE16;
  s->n_off = dense ? nd->cg * nd->kh * nd->kw : dst_uhp_groups(nd) * nd->n;
  s->w_bstride = (ptrdiff_t)(s->n_off + 1) / 2 * 32;
  j->a.qw = carve(c, &j->n.qw, 1, (size_t)s->w_bstride * s->nblocks);
  if (dense) {
    j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)s->n_off); /* one list for every block */
  } else if (j->p->compact) {
    j->a.off = carve(c, &j->n.off, sizeof(int32_t), nd->flat ? (size_t)dst_uhp_groups(nd) * nd->m : (size_t)nd->kh * nd->kw);
    layout_pattern(j, c);
  } else {
    s->off_bstride = s->n_off;
    j->a.off = carve(c, &j->n.off, sizeof(int32_t), (size_t)s->off_bstride * s->nblocks);
  }
  j->a.qbias = carve(c, &j->n.qbias, sizeof(int32_t), (size_t)s->nblocks * 16);
  j->a.qreq = carve(c, &j->n.qreq, sizeof(int32_t), (size_t)s->nblocks * 32);
}

static int8_t q8_weight(const dst_node *nd, int o, int pos) {
  return pos < 0 || o >= nd->o ? 0 : nd->qw[(size_t)o * nd->cg * nd->kh * nd->kw + pos];
}

/* The input's zero point folded into output channel o's bias: the kernels multiply codes as they are. */
static int32_t q8_bias(const job *j, int o) {
  const dst_node *nd = j->nd;
  const int per_out = nd->cg * nd->kh * nd->kw;
  const int zin = nd->in[0] ? j->p->qnodes[nd->in[0] - 1].qz : j->p->in_qz;
  int64_t sum = 0;
  for (int k = 0; k < per_out; k++) sum += nd->qw[(size_t)o * per_out + k];
  return (int32_t)(nd->qbias[o] - (int64_t)zin * sum);
}

static void fill_q8_grouped(job *j) {
  const dst_node *nd = j->nd;
  const int taps = nd->kh * nd->kw, per_out = nd->cg * taps;
  tap_offsets(j);
  for (int o = 0; o < nd->o; o++) {
    for (int t = 0; t < taps; t++)
      for (int ch = 0; ch < nd->cg; ch++) j->a.qw[((size_t)o * taps + t) * nd->cg + ch] = nd->qw[(size_t)o * per_out + ch * taps + t];
    j->a.qbias[o] = q8_bias(j, o);
    j->a.qreq[o] = nd->qreq[2 * o], j->a.qreq[nd->o + o] = nd->qreq[2 * o + 1];
  }
}

static void fill_q8(job *j) {
  const dst_node *nd = j->nd;
  const dst_step *s = j->s;
  const int dense = s->path == DST_PATH_DENSE16;
  for (int b = 0; b < s->nblocks; b++) {
    int8_t *w = j->a.qw + b * s->w_bstride;
    /* entry e: its flat weight position, and (unless one list serves every block or the plan is compact) its offset */
    for (int e = 0, g = 0, k = 0, js[16], n = 0; e < s->n_off; e++, k++) {
      int pos;
      if (dense) {
        pos = q8_dense_pos(nd, e);
        if (b == 0) j->a.off[e] = in_offset(s, nd, pos / (nd->kh * nd->kw), pos % (nd->kh * nd->kw));
      } else {
        for (; k == n; k = 0, g++) n = kept(nd, b * 16, g, js);
        pos = dst_uhp_position(nd, g - 1, js[k]);
        if (!j->p->compact) j->a.off[b * s->off_bstride + e] = group_offset(s, nd, g - 1, js[k]);
      }
      for (int l = 0; l < 16; l++) w[((e / 2) * 16 + l) * 2 + e % 2] = q8_weight(nd, b * 16 + l, pos);
    }
    for (int l = 0; l < 16; l++) {
      const int o = b * 16 + l;
      int32_t *bias = j->a.qbias + b * 16, *mult = j->a.qreq + b * 32, *shift = mult + 16;
      if (o >= nd->o) {
        bias[l] = 0, mult[l] = 1 << 30, shift[l] = 31;
        continue;
      }
      bias[l] = q8_bias(j, o);
      mult[l] = nd->qreq[2 * o], shift[l] = nd->qreq[2 * o + 1];
    }
  }
  if (dense || !j->p->compact) return;
  fill_compact(j);
}

static const struct {
  void (*layout)(job *, carver *);
  void (*fill)(job *);
} PACKERS[] = {
  [DST_PATH_DENSE16] = {layout_dense, fill_dense},     [DST_PATH_SPARSE16] = {layout_sparse, fill_sparse},
  [DST_PATH_SPARSE8] = {layout_sparse, fill_sparse},   [DST_PATH_GATHER8] = {layout_gather, fill_gather},
  [DST_PATH_ROWS8] = {layout_rows, fill_rows},         [DST_PATH_CSR] = {layout_csr, fill_csr},
  [DST_PATH_DEPTHWISE] = {layout_grouped, fill_depthwise}, [DST_PATH_GROUPED] = {layout_grouped, fill_grouped},
};

size_t dst_pack_scratch_bytes(const dst_node *nd) {
  const size_t taps = sizeof(rows_tap) * (size_t)nd->cg * nd->kh * nd->kw;
  const size_t combos = nd->pattern == DST_PAT_UHP ? sizeof(uint16_t) * (size_t)dst_uhp_patterns(nd->m, nd->n) : 0;
  return taps > combos ? taps : combos;
}

size_t dst_pack(const dst_plan *p, dst_step *s, const dst_node *nd, void *mem, void *scratch, dst_pack_counts *counts) {
  job j = {p, s, nd, {0}, {0}, scratch};
  carver c = {mem, 0};
  if (p->int8) (s->path == DST_PATH_GROUPED ? layout_q8_grouped : layout_q8)(&j, &c);
  else PACKERS[s->path].layout(&j, &c);
  if (!p->int8) j.a.bias = carve(&c, &j.n.bias, sizeof(float), (size_t)s->nblocks * s->ob);
  if (counts) *counts = j.n;
  const size_t bytes = (c.used + 63) & ~(size_t)63;
  if (!mem) return bytes;
  memset(mem, 0, bytes);
  if (p->int8) {
    (s->path == DST_PATH_GROUPED ? fill_q8_grouped : fill_q8)(&j);
  } else {
    for (int o = 0; o < nd->o; o++) j.a.bias[o] = nd->bias[o];
    PACKERS[s->path].fill(&j);
  }
  s->w = j.a.w, s->bias = j.a.bias, s->off = j.a.off, s->idx = j.a.idx, s->rowptr = j.a.rowptr, s->pidx = j.a.pidx, s->kept = j.a.kept;
  s->qw = j.a.qw, s->qbias = j.a.qbias, s->qreq = j.a.qreq;
  return bytes;
}
