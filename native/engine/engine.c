/*
 * Planner and executor: picks a kernel path per layer, packs its weights for
 * that path, lays every activation and scratch buffer out in one arena, and
 * runs the layers over a thread pool. Nothing here allocates during run().
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "model.h"
#include "threadpool.h"
#include "uhp_engine.h"

/* Both modes keep their last MODE_WINDOW image times; every MODE_RETRY images the other mode runs MODE_BURST in a row. */
#define MODE_WINDOW 5
#define MODE_RETRY 64
#define MODE_BURST 3

enum path { PATH_NONE, PATH_DENSE16, PATH_SPARSE16, PATH_SPARSE8, PATH_GATHER8, PATH_ROWS8, PATH_CSR, PATH_DEPTHWISE, PATH_GROUPED };

/* Rows and columns of zeros a value keeps around it, so the convs that read it pad in place instead of copying. */
typedef struct {
  int h, w;
} dst_border;

typedef struct step {
  const dst_node *nd;
  int path;
  dst_conv_fn fn;
  int ob, nblocks;        /* output channels per block, blocks */
  int pad, im2col, kpad;  /* input preparation: pad is a zero-bordered copy */
  int hp, wp, cin_total;  /* (padded) input geometry; wp is the stored width when the input keeps a border */
  ptrdiff_t in_shift;     /* floats from the input's storage to the window origin of output pixel 0, when read in place */
  dst_rows_geo rg;        /* rows8: its input layout */
  int kx_chunk;           /* rows8: kernel columns per chunk of entries */
  int npix;
  int units;              /* what tasks split: output pixels, or output rows for rows8 */
  void *mem;              /* one allocation holding the arrays below */
  size_t mem_bytes;
  float *w, *bias;
  int32_t *off, *idx, *rowptr;
  size_t w_bstride, off_bstride, idx_bstride; /* per output block */
  int n_off, cin;
  /* the next node is a pooling of this conv's output alone: both run in row bands, so the conv output is still in cache */
  int pool_next;
  /* the next node adds value res_value to this conv's output alone: the conv's stores do it, writing the add's output */
  int add_next, res_value;
  int relu; /* the conv's own, or its fused add's */
} step;

struct dst_engine {
  dst_model model;
  int isa;
  const dst_kernels *k;
  step *steps;
  float *arena;
  size_t arena_bytes, weight_bytes;
  float **val;      /* value id -> its storage */
  dst_border *border; /* value id -> zero border kept around it */
  float *padbuf, *colbuf;
  dst_pool *pool;
  /*
   * Whether the pool pays off is measured, not assumed: on a loaded machine a
   * worker preempted while holding a task stalls the whole layer. Recent
   * image times per mode (0: caller alone, 1: pool) decide; the other mode is
   * retried now and then so a change in load is noticed.
   */
  double recent[2][MODE_WINDOW];
  int n_recent[2], next[2], runs, trying;
  int last_mode; /* of the image before, -1 before the first */
  int profiling;
  double *node_ms; /* per node, allocated at load so profiling allocates nothing per run */
};

/* UHP layers with own masks (B=1) and fewer kept entries per output channel run dense (measured on AVX2: first convs, 1x1 shortcuts). */
#define OWN_MASK_MIN_ENTRIES 32

/* rows8 input bytes one chunk of entries may read per tile: most of L1, the rest for weights and offsets. */
#define ROWS_CHUNK_BYTES 24576

/* Layers below this many multiply-adds run on the caller alone: a fork-join costs about as much. */
#define PARALLEL_MIN_MACS 150000L

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Carves 64-byte aligned arrays out of one block: first pass counts, second assigns. */
typedef struct {
  char *base;
  size_t used;
} carver;

static void *carve(carver *c, size_t bytes) {
  size_t at = (c->used + 63) & ~(size_t)63;
  c->used = at + bytes;
  return c->base ? c->base + at : NULL;
}

static int choose_path(const dst_node *nd) {
  if (nd->groups > 1) return nd->cg == 1 && nd->o == nd->groups ? PATH_DEPTHWISE : PATH_GROUPED;
  if (nd->pattern == DST_PAT_CSR) return PATH_CSR;
  if (nd->pattern == DST_PAT_DENSE) return PATH_DENSE16;
  if (nd->block % 16 == 0) return PATH_SPARSE16;
  if (nd->block % 8 == 0) return PATH_SPARSE8;
  return PATH_GATHER8;
}

/* Offset of input (c, tap) from a window origin in the padded NHWC input, or in an im2col row. */
static int32_t in_offset(const step *s, int c, int tap) {
  const dst_node *nd = s->nd;
  if (s->im2col) return c * nd->kh * nd->kw + tap;
  int i = tap / nd->kw, j = tap % nd->kw;
  return (int32_t)(((long)i * nd->dh * s->wp + (long)j * nd->dw) * s->cin_total + c);
}

/* Kept positions (ascending j) of group g for output channel o; returns their count. */
static int kept(const dst_node *nd, int o, int g, int *js) {
  const uint8_t *mk = nd->mask + ((size_t)(o / nd->block) * dst_uhp_groups(nd) + g) * nd->m;
  int n = 0;
  for (int j = 0; j < nd->m; j++) if (mk[j]) js[n++] = j;
  return n;
}

/* Input offset of position j of group g (flat groups index an im2col row directly when there is one). */
static int32_t group_offset(const step *s, int g, int j) {
  const dst_node *nd = s->nd;
  if (s->im2col) return g * nd->m + j;
  if (nd->flat) {
    const int pos = dst_uhp_position(nd, g, j), taps = nd->kh * nd->kw;
    return pos < 0 ? 0 : in_offset(s, pos / taps, pos % taps);
  }
  int per_tap = nd->cg / nd->m;
  return in_offset(s, (g % per_tap) * nd->m + j, g / per_tap);
}

static float weight_at(const dst_node *nd, int o, int pos) {
  return pos < 0 || o >= nd->o ? 0.0f : nd->dense[(size_t)o * nd->cg * nd->kh * nd->kw + pos];
}

/* Size of the rows8 input layout. */
static size_t rows_floats(const dst_rows_geo *g) { return (size_t)g->sh * g->sw * g->jq * g->c * g->hq * 8; }

/* rows8 chunks: a kernel column reads one vector column per channel, so a few columns' inputs fit in L1. */
static int rows_chunk(const step *s, int pos) { return pos % (s->nd->kh * s->nd->kw) % s->nd->kw / s->kx_chunk; }

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
static void rows_entries(const step *s, int o, int k, rows_tap *taps, int32_t *off, float *w, int32_t *cnt) {
  const dst_node *nd = s->nd;
  const dst_rows_geo *g = &s->rg;
  const int nt = nd->kh * nd->kw;
  int n = 0;
  for (int gr = 0; gr < dst_uhp_groups(nd); gr++) {
    int js[16];
    const int kn = kept(nd, o, gr, js);
    for (int i = 0; i < kn; i++) {
      const int pos = dst_uhp_position(nd, gr, js[i]);
      if (pos < 0 || rows_chunk(s, pos) != k) continue; /* a flat group's padding holds nothing */
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
 * channel after channel. Without s->off it only sizes the arrays (the most
 * any block needs); with them, it fills them.
 */
static int rows_layout(step *s) {
  const dst_node *nd = s->nd;
  rows_tap *taps = malloc(sizeof *taps * (size_t)nd->cg * nd->kh * nd->kw);
  if (!taps) return -1;
  size_t most_off = 0, most_w = 0;
  for (int b = 0; b < s->nblocks; b++) {
    size_t n_off = 0, n_w = 0;
    for (int k = 0; k < s->cin; k++)
      for (int l = 0; l < 8 && b * 8 + l < nd->o; l++) {
        int32_t counted[DST_ROWS_SHAPES];
        int32_t *cnt = s->off ? s->idx + b * s->idx_bstride + ((size_t)k * 8 + l) * DST_ROWS_SHAPES : counted;
        rows_entries(s, b * 8 + l, k, taps, s->off ? s->off + b * s->off_bstride + n_off : NULL, s->off ? s->w + b * s->w_bstride + n_w : NULL, cnt);
        for (int shape = 0; shape < DST_ROWS_SHAPES; shape++) {
          n_off += (size_t)cnt[shape];
          n_w += (size_t)cnt[shape] * (shape == 3 ? 3 : shape ? 2 : 1);
        }
      }
    most_off = n_off > most_off ? n_off : most_off;
    most_w = n_w > most_w ? n_w : most_w;
  }
  if (!s->off) s->off_bstride = most_off, s->w_bstride = most_w;
  free(taps);
  return 0;
}

static int pack(step *s) {
  const dst_node *nd = s->nd;
  const int taps = nd->kh * nd->kw, per_out = nd->cg * taps;
  carver c = {0};
  for (int pass = 0; pass < 2; pass++) {
    c.used = 0;
    switch (s->path) {
      case PATH_DENSE16:
        s->n_off = taps, s->cin = nd->cg;
        s->w_bstride = (size_t)taps * nd->cg * 16;
        s->w = carve(&c, sizeof(float) * s->w_bstride * s->nblocks);
        s->off = carve(&c, sizeof(int32_t) * taps);
        break;
      case PATH_SPARSE16:
      case PATH_SPARSE8:
        s->n_off = dst_uhp_groups(nd) * nd->n;
        s->w_bstride = (size_t)s->n_off * s->ob;
        s->off_bstride = (size_t)s->n_off;
        s->w = carve(&c, sizeof(float) * s->w_bstride * s->nblocks);
        s->off = carve(&c, sizeof(int32_t) * s->off_bstride * s->nblocks);
        break;
      case PATH_ROWS8:
        s->idx_bstride = (size_t)s->cin * 8 * DST_ROWS_SHAPES;
        s->w = carve(&c, sizeof(float) * s->w_bstride * s->nblocks);
        s->off = carve(&c, sizeof(int32_t) * s->off_bstride * s->nblocks);
        s->idx = carve(&c, sizeof(int32_t) * s->idx_bstride * s->nblocks);
        break;
      case PATH_GATHER8:
        s->n_off = dst_uhp_groups(nd), s->cin = nd->n;
        s->w_bstride = s->idx_bstride = (size_t)s->n_off * nd->n * 8;
        s->w = carve(&c, sizeof(float) * s->w_bstride * s->nblocks);
        s->idx = carve(&c, sizeof(int32_t) * s->idx_bstride * s->nblocks);
        s->off = carve(&c, sizeof(int32_t) * s->n_off);
        break;
      case PATH_CSR: {
        size_t nnz = 0;
        for (size_t i = 0; i < (size_t)per_out * nd->o; i++) nnz += nd->dense[i] != 0.0f;
        s->n_off = (int)nnz;
        s->w = carve(&c, sizeof(float) * nnz);
        s->off = carve(&c, sizeof(int32_t) * nnz);
        s->rowptr = carve(&c, sizeof(int32_t) * (nd->o + 1));
        break;
      }
      default: /* depthwise and grouped: [o][tap][c] (depthwise: [tap][o]) */
        s->w = carve(&c, sizeof(float) * (size_t)per_out * nd->o);
        s->off = carve(&c, sizeof(int32_t) * taps);
    }
    s->bias = carve(&c, sizeof(float) * (size_t)s->nblocks * s->ob);
    if (pass == 0) {
      s->mem_bytes = (c.used + 63) & ~(size_t)63;
      s->mem = aligned_alloc(64, s->mem_bytes);
      if (!s->mem) return -1;
      memset(s->mem, 0, s->mem_bytes);
      c.base = s->mem;
    }
  }
  for (int o = 0; o < nd->o; o++) s->bias[o] = nd->bias[o];
  if (s->path == PATH_DENSE16 || s->path == PATH_DEPTHWISE || s->path == PATH_GROUPED)
    for (int t = 0; t < taps; t++) s->off[t] = in_offset(s, 0, t);

  switch (s->path) {
    case PATH_DENSE16:
      for (int b = 0; b < s->nblocks; b++)
        for (int t = 0; t < taps; t++)
          for (int ch = 0; ch < nd->cg; ch++)
            for (int l = 0; l < 16; l++)
              s->w[b * s->w_bstride + ((size_t)t * nd->cg + ch) * 16 + l] = weight_at(nd, b * 16 + l, ch * taps + t);
      break;
    case PATH_SPARSE16:
    case PATH_SPARSE8: {
      const int groups = dst_uhp_groups(nd);
      for (int b = 0; b < s->nblocks; b++) {
        int e = 0;
        for (int g = 0; g < groups; g++) {
          int js[16];
          int n = kept(nd, b * s->ob, g, js);
          for (int k = 0; k < n; k++, e++) {
            s->off[b * s->off_bstride + e] = group_offset(s, g, js[k]);
            for (int l = 0; l < s->ob; l++)
              s->w[b * s->w_bstride + (size_t)e * s->ob + l] = weight_at(nd, b * s->ob + l, dst_uhp_position(nd, g, js[k]));
          }
        }
      }
      break;
    }
    case PATH_GATHER8: {
      const int groups = dst_uhp_groups(nd);
      for (int g = 0; g < groups; g++) s->off[g] = group_offset(s, g, 0);
      for (int b = 0; b < s->nblocks; b++)
        for (int l = 0; l < 8; l++) {
          const int o = b * 8 + l;
          for (int g = 0; g < groups; g++) {
            int js[16] = {0};
            if (o < nd->o) kept(nd, o, g, js);
            for (int k = 0; k < nd->n; k++) {
              size_t at = b * s->w_bstride + ((size_t)g * nd->n + k) * 8 + l;
              s->idx[at] = js[k];
              s->w[at] = o < nd->o ? weight_at(nd, o, dst_uhp_position(nd, g, js[k])) : 0.0f;
            }
          }
        }
      break;
    }
    case PATH_ROWS8:
      if (rows_layout(s)) return -1;
      break;
    case PATH_CSR: {
      int e = 0;
      for (int o = 0; o < nd->o; o++) {
        s->rowptr[o] = e;
        for (int ch = 0; ch < nd->cg; ch++)
          for (int t = 0; t < taps; t++) {
            float v = nd->dense[(size_t)o * per_out + ch * taps + t];
            if (v == 0.0f) continue;
            s->w[e] = v;
            s->off[e++] = in_offset(s, ch, t);
          }
      }
      s->rowptr[nd->o] = e;
      break;
    }
    case PATH_DEPTHWISE:
      for (int t = 0; t < taps; t++)
        for (int o = 0; o < nd->o; o++) s->w[(size_t)t * nd->o + o] = nd->dense[(size_t)o * taps + t];
      break;
    case PATH_GROUPED:
      for (int o = 0; o < nd->o; o++)
        for (int t = 0; t < taps; t++)
          for (int ch = 0; ch < nd->cg; ch++)
            s->w[((size_t)o * taps + t) * nd->cg + ch] = nd->dense[(size_t)o * per_out + ch * taps + t];
      break;
  }
  return 0;
}

static int plan_conv(dst_engine *e, step *s) {
  const dst_node *nd = s->nd;
  s->path = choose_path(nd);
  /* Few kept entries per channel leave the own-mask kernels' per-tile overhead unamortised: the dense kernel (pruned weights as zeros) wins. */
  if (s->path == PATH_GATHER8 && e->k->rows8 && dst_uhp_groups(nd) * nd->n < OWN_MASK_MIN_ENTRIES) s->path = PATH_DENSE16;
  /* Pixels in lanes pay off once an output row fills most of a vector; below that, channels in lanes. */
  if (s->path == PATH_GATHER8 && e->k->rows8 && nd->out_shape.w >= 6) s->path = PATH_ROWS8;
  s->ob = s->path == PATH_SPARSE8 || s->path == PATH_GATHER8 || s->path == PATH_ROWS8 ? 8 : 16;
  if (s->path == PATH_DEPTHWISE || s->path == PATH_GROUPED) s->ob = nd->o; /* one block: split over pixels */
  s->nblocks = (nd->o + s->ob - 1) / s->ob;
  s->cin_total = nd->in_shape.c;
  s->npix = s->units = nd->out_shape.h * nd->out_shape.w;
  if (s->path == PATH_ROWS8) {
    const int seg = (nd->out_shape.w + 7) / 8;
    /* the last kernel column (row) reaches this many vectors (rows) further */
    s->rg = (dst_rows_geo){nd->in_shape.h, nd->in_shape.w, nd->in_shape.c, nd->ph, nd->pw, nd->sh, nd->sw,
                           seg, seg + (nd->kw - 1) * nd->dw / nd->sw, nd->out_shape.h + (nd->kh - 1) * nd->dh / nd->sh};
    s->units = nd->out_shape.h;
    /* one kernel column's inputs for an 11-row tile; a chunk stays within ROWS_CHUNK_BYTES of them */
    const long col_bytes = (long)nd->in_shape.c * (11 + (nd->kh - 1) * nd->dh / nd->sh) * 32;
    s->kx_chunk = ROWS_CHUNK_BYTES / col_bytes > 1 ? (int)(ROWS_CHUNK_BYTES / col_bytes) : 1;
    s->cin = (nd->kw + s->kx_chunk - 1) / s->kx_chunk;
    if (rows_layout(s)) return -1;
  }
  /* gather8 reads a group's M inputs as one vector, which flat groups only are in an im2col row */
  s->im2col = s->path == PATH_GATHER8 && nd->flat;
  s->kpad = s->im2col ? dst_uhp_groups(nd) * nd->m : 0;
  switch (s->path) {
    case PATH_DENSE16: s->fn = e->k->dense16; break;
    case PATH_SPARSE16: s->fn = e->k->sparse16; break;
    case PATH_SPARSE8: s->fn = e->k->sparse8; break;
    case PATH_GATHER8: s->fn = (e->k->gather_m_mask >> nd->m) & 1 ? e->k->gather8 : dst_kernels_scalar.gather8; break;
    case PATH_ROWS8: s->fn = e->k->rows8; break;
    default: s->fn = NULL;
  }
  return 0;
}

/* Where the conv reads its input (its border decided): in place, or from a zero-bordered copy; then its weights, whose offsets depend on that. */
static int plan_input(dst_engine *e, step *s) {
  const dst_node *nd = s->nd;
  const dst_border b = e->border[nd->in[0]];
  const int w = nd->in_shape.w + 2 * b.w;
  s->hp = nd->in_shape.h + 2 * nd->ph;
  s->wp = nd->in_shape.w + 2 * nd->pw;
  s->pad = s->path != PATH_ROWS8 && (nd->ph > b.h || nd->pw > b.w);
  if (s->path != PATH_ROWS8 && !s->pad) {
    s->wp = w;
    s->in_shift = ((ptrdiff_t)(b.h - nd->ph) * w + (b.w - nd->pw)) * s->cin_total;
  }
  return pack(s);
}

static int stored_value(const step *s, int i) { return s->add_next ? i + 2 : i + 1; }

/*
 * A conv's stored output keeps a zero border as wide as the largest padding
 * of the convs that read it, when nothing else reads it: no reader needs a
 * padded copy then. A fused add's residual must be laid out as the output it
 * is added into: both take the wider border, or none when one of them cannot
 * keep one.
 */
static void plan_borders(dst_engine *e) {
  const dst_model *m = &e->model;
  const int nv = m->n_nodes + 1;
  char *ok = calloc((size_t)nv, 1);
  if (!ok) return; /* no borders: every conv pads a copy, as always correct */
  ok[0] = 1; /* the input, which preprocessing writes */
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].op == DST_OP_CONV && !e->steps[i].pool_next) ok[stored_value(&e->steps[i], i)] = 1;
  ok[m->output] = 0;
  for (int j = 0; j < m->n_nodes; j++) {
    const dst_node *r = &m->nodes[j];
    const int conv_reader = r->op == DST_OP_CONV && e->steps[j].path != PATH_ROWS8;
    for (int k = 0; k < r->n_in; k++) {
      const int v = r->in[k];
      /* an add run in a conv's stores reads its residual through that conv; global pooling reads around a border */
      if ((r->op == DST_OP_ADD && j > 0 && e->steps[j - 1].add_next) || r->op == DST_OP_GLOBALAVGPOOL) continue;
      if (!conv_reader) ok[v] = 0;
      else if (ok[v]) {
        if (r->ph > e->border[v].h) e->border[v].h = r->ph;
        if (r->pw > e->border[v].w) e->border[v].w = r->pw;
      }
    }
  }
  for (int v = 0; v < nv; v++)
    if (!ok[v]) e->border[v] = (dst_border){0, 0};
  /* borders only grow to the widest padding or drop to none for good, so this ends */
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < m->n_nodes; i++) {
      if (!e->steps[i].add_next) continue;
      const int r = e->steps[i].res_value, y = i + 2;
      dst_border *a = &e->border[r], *b = &e->border[y];
      if (a->h == b->h && a->w == b->w) continue;
      if (ok[r] && ok[y]) *a = *b = (dst_border){a->h > b->h ? a->h : b->h, a->w > b->w ? a->w : b->w};
      else *a = *b = (dst_border){0, 0}, ok[r] = ok[y] = 0;
      changed = 1;
    }
  }
  free(ok);
}

static dst_shape value_shape(const dst_engine *e, int v) { return v == 0 ? e->model.input : e->model.nodes[v - 1].out_shape; }

/* Greedy buffer reuse: a value's slot returns to the free list after its last reader. */
static int plan_arena(dst_engine *e, char *err, size_t errlen) {
  dst_model *m = &e->model;
  const int nv = m->n_nodes + 1;
  int *last = calloc((size_t)nv, sizeof *last), *slot_of = calloc((size_t)nv, sizeof *slot_of);
  size_t *slot_size = calloc((size_t)nv, sizeof *slot_size);
  int *slot_free = calloc((size_t)nv, sizeof *slot_free);
  e->val = calloc((size_t)nv, sizeof *e->val);
  if (!last || !slot_of || !slot_size || !slot_free || !e->val) {
    free(last), free(slot_of), free(slot_size), free(slot_free);
    set_err(err, errlen, "out of memory while planning");
    return -1;
  }
  for (int i = 0; i < m->n_nodes; i++)
    for (int k = 0; k < m->nodes[i].n_in; k++) last[m->nodes[i].in[k]] = i;
  last[m->output] = m->n_nodes;
  /* a banded conv still reads its input while its pooling writes, a conv with a fused add while it writes the add's output */
  for (int i = 0; i < m->n_nodes; i++)
    for (int k = 0; (e->steps[i].pool_next || e->steps[i].add_next) && k < m->nodes[i].n_in; k++)
      if (last[m->nodes[i].in[k]] == i) last[m->nodes[i].in[k]] = i + 1;
  int n_slots = 0;
  size_t pad_max = 0, col_max = 0;
  for (int v = 0; v < nv; v++) {
    const dst_shape sh = value_shape(e, v);
    const dst_border b = e->border[v];
    size_t need = round16((size_t)sh.c * (sh.h + 2 * b.h) * (sh.w + 2 * b.w));
    /* the output of a conv with a fused add is never written: no slot */
    const int unwritten = v > 0 && e->steps[v - 1].add_next;
    /* the smallest free slot that fits, else the largest free one, grown */
    int best = -1;
    for (int s = 0; s < n_slots && !unwritten; s++) {
      if (!slot_free[s]) continue;
      if (best < 0) best = s;
      else if (slot_size[s] >= need) best = slot_size[best] < need || slot_size[s] < slot_size[best] ? s : best;
      else if (slot_size[best] < need && slot_size[s] > slot_size[best]) best = s;
    }
    if (!unwritten) {
      if (best < 0) best = n_slots++;
      slot_free[best] = 0;
      if (slot_size[best] < need) slot_size[best] = need;
    }
    slot_of[v] = best;
    if (v > 0) {
      /* inputs die after the node that last reads them; a value nobody reads dies at once */
      const dst_node *nd = &m->nodes[v - 1];
      for (int k = 0; k < nd->n_in; k++)
        if (last[nd->in[k]] == v - 1 && slot_of[nd->in[k]] >= 0) slot_free[slot_of[nd->in[k]]] = 1;
      if (best >= 0 && last[v] < v && v != m->output) slot_free[best] = 1;
      const step *s = &e->steps[v - 1];
      const dst_rows_geo *g = &s->rg;
      const size_t prep = s->path == PATH_ROWS8 ? rows_floats(g) : s->pad ? (size_t)s->hp * s->wp * s->cin_total : 0;
      if (round16(prep) > pad_max) pad_max = round16(prep);
      if (s->im2col) col_max = col_max > round16((size_t)s->npix * s->kpad) ? col_max : round16((size_t)s->npix * s->kpad);
    }
  }
  size_t total = pad_max + col_max;
  for (int s = 0; s < n_slots; s++) total += slot_size[s];
  e->arena_bytes = total * sizeof(float);
  e->arena = aligned_alloc(64, e->arena_bytes ? e->arena_bytes : 64);
  if (!e->arena) {
    free(last), free(slot_of), free(slot_size), free(slot_free);
    set_err(err, errlen, "cannot allocate a %zu-byte arena", e->arena_bytes);
    return -1;
  }
  memset(e->arena, 0, e->arena_bytes);
  size_t at = 0;
  size_t *slot_at = slot_size; /* reuse as offsets after sizes are summed */
  for (int s = 0; s < n_slots; s++) {
    size_t sz = slot_size[s];
    slot_at[s] = at;
    at += sz;
  }
  for (int v = 0; v < nv; v++) e->val[v] = slot_of[v] >= 0 ? e->arena + slot_at[slot_of[v]] : NULL;
  e->padbuf = e->arena + at;
  e->colbuf = e->arena + at + pad_max;
  free(last), free(slot_of), free(slot_size), free(slot_free);
  return 0;
}

dst_engine *dst_engine_load(const uint8_t *bytes, size_t len, int isa, int threads, char *err, size_t errlen) {
  if (isa == DST_ISA_AUTO) isa = dst_isa_best();
  if (!dst_isa_available(isa)) {
    set_err(err, errlen, "kernel set '%s' is not available on this CPU or build", dst_isa_name(isa) ? dst_isa_name(isa) : "?");
    return NULL;
  }
  if (threads < 1 || threads > 256) {
    set_err(err, errlen, "threads must be 1..256, got %d", threads);
    return NULL;
  }
  dst_engine *e = calloc(1, sizeof *e);
  if (!e) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  e->isa = isa;
  e->last_mode = -1;
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case DST_ISA_AVX2: e->k = &dst_kernels_avx2; break;
    case DST_ISA_AVX512: e->k = &dst_kernels_avx512; break;
#endif
#if defined(__aarch64__)
    case DST_ISA_NEON: e->k = &dst_kernels_neon; break;
#endif
    default: e->k = &dst_kernels_scalar;
  }
  if (dst_model_read(&e->model, bytes, len, err, errlen)) {
    free(e);
    return NULL;
  }
  dst_model *m = &e->model;
  e->steps = calloc((size_t)m->n_nodes, sizeof *e->steps);
  e->node_ms = calloc((size_t)m->n_nodes, sizeof *e->node_ms);
  if (!e->steps || !e->node_ms) goto oom;
  for (int i = 0; i < m->n_nodes; i++) {
    step *s = &e->steps[i];
    dst_node *nd = &m->nodes[i];
    s->nd = nd;
    if ((nd->op == DST_OP_CONV || nd->op == DST_OP_LINEAR) && plan_conv(e, s)) goto oom;
  }
  for (int i = 0; i + 1 < m->n_nodes; i++) {
    const dst_node *c = &m->nodes[i], *p = &m->nodes[i + 1];
    int readers = m->output == i + 1;
    for (int j = 0; j < m->n_nodes; j++)
      for (int k = 0; k < m->nodes[j].n_in; k++) readers += m->nodes[j].in[k] == i + 1;
    step *s = &e->steps[i];
    s->pool_next = c->op == DST_OP_CONV && (p->op == DST_OP_MAXPOOL || p->op == DST_OP_AVGPOOL) && p->in[0] == i + 1 &&
                   p->ph == 0 && p->pw == 0 && readers == 1;
    /* the unfused add rounds the conv's output, then adds: the stores add the same two floats, so results are bit-identical */
    s->add_next = (c->op == DST_OP_CONV || c->op == DST_OP_LINEAR) && p->op == DST_OP_ADD && !c->relu && readers == 1 &&
                  (p->in[0] == i + 1) != (p->in[1] == i + 1);
    if (s->add_next) s->res_value = p->in[p->in[0] == i + 1];
  }
  for (int i = 0; i < m->n_nodes; i++) e->steps[i].relu = e->steps[i].add_next ? m->nodes[i + 1].relu : m->nodes[i].relu;
  if (!(e->border = calloc((size_t)m->n_nodes + 1, sizeof *e->border))) goto oom;
  plan_borders(e);
  for (int i = 0; i < m->n_nodes; i++) {
    dst_node *nd = &m->nodes[i];
    if (nd->op != DST_OP_CONV && nd->op != DST_OP_LINEAR) continue;
    if (plan_input(e, &e->steps[i])) goto oom;
    /* Packed copies replace the decoded weights. */
    free(nd->dense), free(nd->mask), free(nd->bias);
    nd->dense = NULL, nd->mask = NULL, nd->bias = NULL;
    e->weight_bytes += e->steps[i].mem_bytes;
  }
  if (plan_arena(e, err, errlen)) {
    dst_engine_free(e);
    return NULL;
  }
  if (!(e->pool = dst_pool_new(threads))) {
    dst_engine_free(e);
    set_err(err, errlen, "cannot start %d threads", threads);
    return NULL;
  }
  return e;
oom:
  dst_engine_free(e);
  set_err(err, errlen, "out of memory while packing weights");
  return NULL;
}

/* One layer's parallel loop: tasks are (pixel chunk, output block) pairs. */
typedef struct {
  const step *s;
  const float *x;
  ptrdiff_t x_row, x_col;
  float *y;
  ptrdiff_t y_row;  /* floats per output row as stored */
  const float *res; /* a fused add's other input, laid out as y */
  int chunks;
  int u0, u1; /* the units (see step) this loop covers */
} layer_ctx;

static void run_task(void *arg, int task) {
  const layer_ctx *c = arg;
  const step *s = c->s;
  const dst_node *nd = s->nd;
  const int ow = nd->out_shape.w;
  const dst_conv_geo geo = {c->x, c->x_row, c->x_col, ow, c->y, nd->o, c->y_row, s->relu, s->bias, c->res};
  /* pixel-major, so a thread's share of the tasks (threadpool.c) is a band of output pixels */
  const int b = task % s->nblocks, ch = task / s->nblocks;
  const int p0 = c->u0 + (int)((long)(c->u1 - c->u0) * ch / c->chunks), p1 = c->u0 + (int)((long)(c->u1 - c->u0) * (ch + 1) / c->chunks);
  if (p0 == p1) return;
  switch (s->path) {
    case PATH_DEPTHWISE: dst_conv_depthwise(&geo, p0, p1, nd->o, nd->kh * nd->kw, s->off, s->w); return;
    case PATH_GROUPED: dst_conv_grouped(&geo, p0, p1, nd->o, nd->o / nd->groups, nd->cg, nd->kh * nd->kw, s->off, s->w); return;
    case PATH_CSR: {
      const int o0 = b * s->ob, o1 = o0 + s->ob < nd->o ? o0 + s->ob : nd->o;
      dst_conv_csr(&geo, p0, p1, o0, o1, s->rowptr, s->off, s->w);
      return;
    }
    default: {
      dst_conv_task t = {
        .x = c->x, .x_row = c->x_row, .x_col = c->x_col, .ow = ow, .p0 = p0, .p1 = p1,
        .y = c->y + (ptrdiff_t)b * s->ob, .y_pix = nd->o, .y_row = c->y_row,
        .lanes = nd->o - b * s->ob < s->ob ? nd->o - b * s->ob : s->ob,
        .relu = s->relu, .bias = s->bias + (size_t)b * s->ob,
        .w = s->w + b * s->w_bstride, .off = s->off + b * s->off_bstride, .n_off = s->n_off, .cin = s->cin,
        .m = nd->m, .idx = s->idx ? s->idx + b * s->idx_bstride : NULL,
        .res = c->res ? c->res + (ptrdiff_t)b * s->ob : NULL,
      };
      s->fn(&t);
    }
  }
}

/*
 * Tasks per layer: one per output block on one thread; with more threads,
 * about four per thread so a late or preempted thread costs little, cut
 * along pixels only when blocks are too few, each chunk kept >= 16 pixels.
 */
static int pixel_chunks(const step *s, int units, int threads) {
  if (threads == 1) return 1;
  int want = (4 * threads + s->nblocks - 1) / s->nblocks;
  /* chunks of >= 16 pixels, or >= 6 rows for rows8 (its row tiles need the height) */
  int most = units / (s->path == PATH_ROWS8 ? 6 : 16);
  if (most < 1) most = 1;
  return want < most ? want : most;
}

static long conv_macs(const step *s) {
  const dst_node *nd = s->nd;
  const long per_out = s->path == PATH_DENSE16 || s->path == PATH_DEPTHWISE || s->path == PATH_GROUPED || s->path == PATH_CSR
                           ? (long)nd->cg * nd->kh * nd->kw
                           : (long)dst_uhp_groups(nd) * nd->n;
  return per_out * nd->o * s->npix;
}

/*
 * Copies between layers (padding, residual adds) split over the pool too, so
 * a worker does not idle through them: a ResNet-20 image has 19 pads and 9
 * adds. Below this many floats a fork-join costs more than it saves.
 */
#define PARALLEL_MIN_FLOATS 8192

typedef struct {
  const float *x;
  float *y;
  int h, w, c, ph, pw;
  int rows, tasks; /* rows of the padded image, split evenly over the tasks */
} pad_ctx;

static void pad_task(void *arg, int t) {
  const pad_ctx *k = arg;
  dst_pad_rows(k->x, k->h, k->w, k->c, k->ph, k->pw, k->rows * t / k->tasks, k->rows * (t + 1) / k->tasks, k->y);
}

typedef struct {
  const float *a, *b;
  float *y;
  size_t n;
  int relu;
  int lines, tasks; /* 16-float lines, so no two tasks write one cache line */
} add_ctx;

static void add_task(void *arg, int t) {
  const add_ctx *k = arg;
  const size_t i0 = (size_t)16 * (k->lines * t / k->tasks), i1 = (size_t)16 * (k->lines * (t + 1) / k->tasks);
  const size_t end = i1 < k->n ? i1 : k->n;
  if (i0 < end) dst_add(k->a + i0, k->b + i0, end - i0, k->relu, k->y + i0);
}

typedef struct {
  const dst_kernels *k;
  const float *x;
  const dst_rows_geo *g;
  float *out;
  int tasks;
} prep_ctx;

static void prep_task(void *arg, int t) {
  const prep_ctx *p = arg;
  p->k->rows_prep(p->x, p->g, p->g->hq * t / p->tasks, p->g->hq * (t + 1) / p->tasks, p->out);
}

static int copy_tasks(const dst_engine *e, int parallel, size_t floats) {
  return parallel && floats >= PARALLEL_MIN_FLOATS ? dst_pool_threads(e->pool) : 1;
}

static void pad_input(dst_engine *e, const step *s, const float *in, int parallel) {
  const dst_node *nd = s->nd;
  pad_ctx k = {in, e->padbuf, nd->in_shape.h, nd->in_shape.w, s->cin_total, nd->ph, nd->pw, nd->in_shape.h + 2 * nd->ph, 1};
  k.tasks = copy_tasks(e, parallel, (size_t)k.rows * s->wp * s->cin_total);
  dst_pool_run(e->pool, pad_task, &k, k.tasks);
}

static void rows_input(dst_engine *e, const step *s, const float *in, int parallel) {
  const dst_rows_geo *g = &s->rg;
  prep_ctx p = {e->k, in, g, e->padbuf, 1};
  p.tasks = copy_tasks(e, parallel, rows_floats(g));
  dst_pool_run(e->pool, prep_task, &p, p.tasks);
}

static void add_values(dst_engine *e, const float *a, const float *b, size_t n, int relu, float *y, int parallel) {
  add_ctx k = {a, b, y, n, relu, (int)((n + 15) / 16), 1};
  k.tasks = copy_tasks(e, parallel, n);
  dst_pool_run(e->pool, add_task, &k, k.tasks);
}

/*
 * Input preparation, once per layer; fills the loop context but runs no task
 * of the conv itself. in is the input's storage, out the output's pixel (0, 0),
 * y_row its floats per stored row.
 */
static void conv_prepare(dst_engine *e, const step *s, const float *in, float *out, ptrdiff_t y_row, layer_ctx *c, int parallel) {
  const dst_node *nd = s->nd;
  const float *src = in + s->in_shift;
  if (s->pad) {
    pad_input(e, s, in, parallel);
    src = e->padbuf;
  }
  *c = (layer_ctx){s, src, (ptrdiff_t)nd->sh * s->wp * s->cin_total, (ptrdiff_t)nd->sw * s->cin_total, out, y_row, NULL, 1, 0, 0};
  if (s->path == PATH_ROWS8) {
    rows_input(e, s, in, parallel);
    c->x = e->padbuf;
    c->x_row = 8;
    c->x_col = (ptrdiff_t)s->rg.c * s->rg.hq * 8;
  }
  if (s->im2col) {
    dst_im2col(src, s->wp, s->cin_total, nd->kh, nd->kw, nd->sh, nd->sw, nd->dh, nd->dw, nd->out_shape.h, nd->out_shape.w, s->kpad, e->colbuf);
    c->x = e->colbuf;
    c->x_row = (ptrdiff_t)nd->out_shape.w * s->kpad;
    c->x_col = s->kpad;
  }
}

/* Output rows [r0, r1) of a prepared conv. */
static void conv_rows(dst_engine *e, const step *s, layer_ctx *c, int r0, int r1, int parallel) {
  const int per_row = s->units / s->nd->out_shape.h;
  c->u0 = r0 * per_row, c->u1 = r1 * per_row;
  c->chunks = parallel ? pixel_chunks(s, c->u1 - c->u0, dst_pool_threads(e->pool)) : 1;
  if (parallel) {
    dst_pool_run(e->pool, run_task, c, s->nblocks * c->chunks);
  } else {
    for (int t = 0; t < s->nblocks; t++) run_task(c, t);
  }
}

/* Pooled rows [p0, p1) of pn, from the conv rows in mid. */
static void pool_rows(const dst_engine *e, const step *s, const dst_node *pn, const float *mid, float *out, int p0, int p1) {
  const int oh = s->nd->out_shape.h, ow = s->nd->out_shape.w, c = s->nd->o, r0 = p0 * pn->sh;
  if (pn->op == DST_OP_MAXPOOL && e->k->maxpool)
    e->k->maxpool(mid + (size_t)r0 * ow * c, ow, c, pn->kh, pn->kw, pn->sh, pn->sw, p1 - p0, pn->out_shape.w, out + (size_t)p0 * pn->out_shape.w * c);
  else
    dst_pool2d(mid + (size_t)r0 * ow * c, oh - r0, ow, c, pn->kh, pn->kw, pn->sh, pn->sw, 0, 0, p1 - p0, pn->out_shape.w,
               pn->op == DST_OP_MAXPOOL, out + (size_t)p0 * pn->out_shape.w * c);
}

/* Conv rows pooled rows [p0, p1) read. */
static int pool_reach(const step *s, const dst_node *pn, int p1) {
  const int need = (p1 - 1) * pn->sh + pn->kh;
  return need < s->nd->out_shape.h ? need : s->nd->out_shape.h;
}

typedef struct {
  const dst_engine *e;
  const step *s;
  const dst_node *pn;
  const layer_ctx *conv;
  float *mid, *out;
  int bands;
} band_ctx;

/* One band of pooled rows and the conv rows only it reads, all output blocks: windows that do not overlap make bands independent. */
static void band_task(void *arg, int t) {
  const band_ctx *k = arg;
  const int ph = k->pn->out_shape.h, p0 = ph * t / k->bands, p1 = ph * (t + 1) / k->bands;
  if (p0 == p1) return;
  const int per_row = k->s->units / k->s->nd->out_shape.h;
  layer_ctx c = *k->conv;
  c.u0 = p0 * k->pn->sh * per_row, c.u1 = pool_reach(k->s, k->pn, p1) * per_row, c.chunks = 1;
  for (int b = 0; b < k->s->nblocks; b++) run_task(&c, b);
  pool_rows(k->e, k->s, k->pn, k->mid, k->out, p0, p1);
}

/*
 * A conv and the pooling of its output, in bands of pooled rows small enough
 * to stay in cache. On the pool, each band is one task that pools what it
 * computed: one fork-join for both layers, and no pooling left to the caller.
 */
static void conv_pool(dst_engine *e, const step *s, const dst_node *pn, const float *in, float *mid, float *out, int parallel) {
  const dst_node *nd = s->nd;
  layer_ctx ctx;
  conv_prepare(e, s, in, mid, (ptrdiff_t)nd->out_shape.w * nd->o, &ctx, parallel);
  /* a band keeps >= 96 conv pixels (16 tiles), or its last, partial tile costs too much */
  const int min_conv_rows = (96 + nd->out_shape.w - 1) / nd->out_shape.w;
  const int threads = dst_pool_threads(e->pool), most = pn->out_shape.h / ((min_conv_rows + pn->sh - 1) / pn->sh);
  /* about four bands per thread, and at least two, or a late thread holds up the layer; rows8 tiles need more rows than a band has */
  if (parallel && pn->kh <= pn->sh && most >= 2 * threads && s->path != PATH_ROWS8) {
    band_ctx k = {e, s, pn, &ctx, mid, out, most < 4 * threads ? most : 4 * threads};
    dst_pool_run(e->pool, band_task, &k, k.bands);
    return;
  }
  const size_t row_bytes = (size_t)pn->sh * nd->out_shape.w * nd->o * sizeof(float);
  const size_t target = parallel ? 65536 : 16384;
  int band = row_bytes >= target ? 1 : (int)(target / row_bytes);
  /* rows8 tiles up to 11 conv rows and needs them all at once: thin bands leave its FMAs waiting on each other */
  if (s->path == PATH_ROWS8) band = pn->out_shape.h;
  int done = 0;
  for (int p0 = 0; p0 < pn->out_shape.h; p0 += band) {
    const int p1 = p0 + band < pn->out_shape.h ? p0 + band : pn->out_shape.h, need = pool_reach(s, pn, p1);
    if (need > done) conv_rows(e, s, &ctx, done, need, parallel), done = need;
    pool_rows(e, s, pn, mid, out, p0, p1);
  }
}

/* Crop and normalise into x, pixel (0, 0) of the input value, rows row floats apart. */
static void preprocess(const dst_model *m, const float *in, float *x, ptrdiff_t row) {
  const int c = m->input.c, h = m->input.h, w = m->input.w;
  const int top = (m->crop_h - h) / 2, left = (m->crop_w - w) / 2;
  for (int ch = 0; ch < c; ch++) {
    const float mean = m->mean ? m->mean[ch] : 0.0f, inv = m->std ? 1.0f / m->std[ch] : 1.0f;
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++)
        x[i * row + (ptrdiff_t)j * c + ch] = (in[((size_t)ch * m->crop_h + top + i) * m->crop_w + left + j] - mean) * inv;
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double min_of(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

/*
 * 1: use the pool for this image. The pool's window fills first, then the
 * caller's, then the one with the faster best recent image wins: slow
 * outliers (caches cold after another model ran) miss the minimum, while a
 * lasting load slows every image of the chosen mode and turns its window over
 * within MODE_WINDOW images. The other mode's retry runs as a burst so most of
 * its window is fresh at once, and seldom: each retried image is a slow one
 * when the chosen mode was right.
 */
static int pick_mode(dst_engine *e) {
  if (e->n_recent[1] < MODE_WINDOW) return 1;
  if (e->n_recent[0] < MODE_WINDOW) return 0;
  const int pool_wins = min_of(e->recent[1], MODE_WINDOW) <= min_of(e->recent[0], MODE_WINDOW);
  const int phase = e->runs++ % MODE_RETRY;
  if (phase == 0) e->trying = !pool_wins;
  return phase < MODE_BURST ? e->trying : pool_wins;
}

/*
 * The first image after a switch is not recorded: a pool that slept through
 * the other mode's images (and a virtual CPU the host parked meanwhile) wakes
 * during it, which no image of a steady run pays.
 */
static void record_mode(dst_engine *e, int mode, double ms) {
  const int first = mode != e->last_mode;
  e->last_mode = mode;
  if (first) return;
  e->recent[mode][e->next[mode]] = ms;
  e->next[mode] = (e->next[mode] + 1) % MODE_WINDOW;
  if (e->n_recent[mode] < MODE_WINDOW) e->n_recent[mode]++;
}

/* Floats per stored row of value v. */
static ptrdiff_t stored_row(const dst_engine *e, int v) {
  const dst_shape sh = value_shape(e, v);
  return (ptrdiff_t)(sh.w + 2 * e->border[v].w) * sh.c;
}

/* Pixel (0, 0) of value v in its storage. */
static float *origin(const dst_engine *e, int v) {
  return e->val[v] + e->border[v].h * stored_row(e, v) + (ptrdiff_t)e->border[v].w * value_shape(e, v).c;
}

/* The storage is shared with other values over a run: the border is zeroed before each write of v. */
static void zero_border(const dst_engine *e, int v) {
  const dst_border b = e->border[v];
  if (b.h == 0 && b.w == 0) return;
  const dst_shape sh = value_shape(e, v);
  dst_zero_border(e->val[v], sh.h, sh.w, sh.c, b.h, b.w);
}

/* Runs node i; returns how many nodes that was: 2 when a pooling or an add ran in the conv. */
static int run_node(dst_engine *e, int i, int pooled) {
  const dst_model *m = &e->model;
  const step *s = &e->steps[i];
  if (s->pool_next) {
    const int parallel = pooled && conv_macs(s) >= PARALLEL_MIN_MACS;
    conv_pool(e, s, &m->nodes[i + 1], e->val[s->nd->in[0]], e->val[i + 1], e->val[i + 2], parallel);
    return 2;
  }
  const dst_node *nd = s->nd;
  const float *x = e->val[nd->in[0]];
  float *y = e->val[i + 1];
  const dst_shape is = nd->in_shape;
  const size_t n = (size_t)is.c * is.h * is.w;
  switch (nd->op) {
    case DST_OP_CONV:
    case DST_OP_LINEAR: {
      layer_ctx c;
      const int parallel = pooled && conv_macs(s) >= PARALLEL_MIN_MACS;
      const int out = stored_value(s, i);
      zero_border(e, out);
      conv_prepare(e, s, x, origin(e, out), stored_row(e, out), &c, parallel);
      if (s->add_next) c.res = origin(e, s->res_value);
      conv_rows(e, s, &c, 0, nd->out_shape.h, parallel);
      return s->add_next ? 2 : 1;
    }
    case DST_OP_RELU: dst_relu(x, n, y); break;
    case DST_OP_ADD: add_values(e, x, e->val[nd->in[1]], n, nd->relu, y, pooled); break;
    case DST_OP_MAXPOOL:
    case DST_OP_AVGPOOL:
      dst_pool2d(x, is.h, is.w, is.c, nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->out_shape.h, nd->out_shape.w,
                 nd->op == DST_OP_MAXPOOL, y);
      break;
    case DST_OP_GLOBALAVGPOOL: dst_global_avgpool(origin(e, nd->in[0]), is.h, is.w, stored_row(e, nd->in[0]), is.c, y); break;
    case DST_OP_FLATTEN: dst_hwc_to_chw(x, is.h, is.w, is.c, y); break;
    case DST_OP_SOFTMAX: dst_softmax(x, n, y); break;
  }
  return 1;
}

void dst_engine_run(dst_engine *e, const float *in, float *out, int batch) {
  const dst_model *m = &e->model;
  const size_t in_size = dst_engine_input_size(e), out_size = dst_engine_output_size(e);
  for (int b = 0; b < batch; b++) {
    const int pooled = dst_pool_threads(e->pool) > 1 && pick_mode(e);
    const double t0 = dst_pool_threads(e->pool) > 1 ? now_ms() : 0.0;
    if (pooled) dst_pool_begin(e->pool);
    zero_border(e, 0);
    preprocess(m, in + b * in_size, origin(e, 0), stored_row(e, 0));
    for (int i = 0; i < m->n_nodes;) {
      const double t = e->profiling ? now_ms() : 0.0;
      const int ran = run_node(e, i, pooled);
      if (e->profiling) e->node_ms[i] += now_ms() - t;
      i += ran;
    }
    if (dst_pool_threads(e->pool) > 1) record_mode(e, pooled, now_ms() - t0);
    const dst_shape os = m->out_shape;
    float *o = out + b * out_size;
    if (os.rank == 3) dst_hwc_to_chw(e->val[m->output], os.h, os.w, os.c, o);
    else memcpy(o, e->val[m->output], out_size * sizeof(float));
  }
}

int dst_engine_set_threads(dst_engine *e, int threads, char *err, size_t errlen) {
  if (threads < 1 || threads > 256) {
    set_err(err, errlen, "threads must be 1..256, got %d", threads);
    return -1;
  }
  if (threads == dst_pool_threads(e->pool)) return 0;
  dst_pool *p = dst_pool_new(threads);
  if (!p) {
    set_err(err, errlen, "cannot start %d threads", threads);
    return -1;
  }
  dst_pool_free(e->pool);
  e->pool = p;
  e->n_recent[0] = e->n_recent[1] = e->next[0] = e->next[1] = e->runs = 0;
  e->last_mode = -1;
  return 0;
}

int dst_engine_threads(const dst_engine *e) { return dst_pool_threads(e->pool); }
int dst_engine_isa(const dst_engine *e) { return e->isa; }

size_t dst_engine_input_size(const dst_engine *e) {
  return (size_t)e->model.input.c * e->model.crop_h * e->model.crop_w;
}

size_t dst_engine_output_size(const dst_engine *e) {
  const dst_shape s = e->model.out_shape;
  return (size_t)s.c * s.h * s.w;
}

int dst_engine_input_shape(const dst_engine *e, int shape[3]) {
  shape[0] = e->model.input.c, shape[1] = e->model.crop_h, shape[2] = e->model.crop_w;
  return 3;
}

int dst_engine_output_shape(const dst_engine *e, int shape[3]) {
  const dst_shape s = e->model.out_shape;
  shape[0] = s.c, shape[1] = s.h, shape[2] = s.w;
  return s.rank;
}

size_t dst_engine_memory(const dst_engine *e) { return e->arena_bytes + e->weight_bytes; }

void dst_engine_profile(dst_engine *e, int on) {
  if (on) memset(e->node_ms, 0, (size_t)e->model.n_nodes * sizeof *e->node_ms);
  e->profiling = on != 0;
}

int dst_engine_node_count(const dst_engine *e) { return e->model.n_nodes; }

static int node_index_ok(const dst_engine *e, int i) { return i >= 0 && i < e->model.n_nodes; }

double dst_engine_node_ms(const dst_engine *e, int i) { return node_index_ok(e, i) ? e->node_ms[i] : 0.0; }

const char *dst_engine_node_kernel(const dst_engine *e, int i) {
  static const char *const paths[] = {"none", "dense16", "sparse16", "sparse8", "gather8", "rows8", "csr", "depthwise", "grouped"};
  static const char *const ops[] = {"conv", "linear", "relu", "add", "maxpool", "avgpool", "globalavgpool", "flatten", "softmax"};
  if (!node_index_ok(e, i)) return NULL;
  const step *s = &e->steps[i];
  return s->nd->op == DST_OP_CONV || s->nd->op == DST_OP_LINEAR ? paths[s->path] : ops[s->nd->op];
}

long dst_engine_node_macs(const dst_engine *e, int i) {
  if (!node_index_ok(e, i)) return 0;
  const step *s = &e->steps[i];
  if (s->nd->op != DST_OP_CONV && s->nd->op != DST_OP_LINEAR) return 0;
  return s->path == PATH_CSR ? (long)s->n_off * s->npix : conv_macs(s);
}

int dst_engine_node_fused(const dst_engine *e, int i) { return node_index_ok(e, i) && i > 0 && (e->steps[i - 1].pool_next || e->steps[i - 1].add_next); }

void dst_engine_free(dst_engine *e) {
  if (!e) return;
  dst_pool_free(e->pool);
  for (int i = 0; e->steps && i < e->model.n_nodes; i++) free(e->steps[i].mem);
  free(e->steps);
  free(e->node_ms);
  free(e->arena);
  free(e->val);
  free(e->border);
  dst_model_free(&e->model);
  free(e);
}
