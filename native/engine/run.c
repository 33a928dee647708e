/* The layer loop over a planned, packed model; see run.h. */
#include "run.h"

#include <string.h>

/* Layers below this many multiply-adds run on the caller alone: a fork-join costs about as much. */
#define PARALLEL_MIN_MACS 150000L

/*
 * Copies between layers (padding, residual adds) split over the pool too, so
 * a worker does not idle through them. Below this many floats a fork-join
 * costs more than it saves.
 */
#define PARALLEL_MIN_FLOATS 8192

/* One image's state: what every layer reads. */
typedef struct {
  const dst_plan *p;
  const dst_kernels *k;
  float *arena;
  int32_t *scratch;
  const dst_sched *sched;
} runner;

static int threads_of(const runner *r) { return r->sched ? r->sched->threads : 1; }

void dst_sched_for(const dst_sched *sched, dst_task_fn fn, void *ctx, int tasks) {
#if !defined(DST_BARE_METAL)
  if (tasks > 1 && sched && sched->threads > 1) {
    sched->parallel(sched->pool, fn, ctx, tasks);
    return;
  }
#else
  (void)sched;
#endif
  for (int t = 0; t < tasks; t++) fn(ctx, t);
}

static void for_tasks(const runner *r, dst_task_fn fn, void *ctx, int tasks) { dst_sched_for(r->sched, fn, ctx, tasks); }


static float *storage(const runner *r, int v) { return r->arena + r->p->val_at[v]; }

/* Pixel (0, 0) of value v in its storage. */
static float *origin(const runner *r, int v) { return storage(r, v) + dst_value_origin(r->p, v); }

/* The storage is shared with other values over a run: the border is zeroed before each write of v. */
static void zero_border(const runner *r, int v) {
  const dst_border b = r->p->border[v];
  if (b.h == 0 && b.w == 0) return;
  const dst_shape sh = dst_value_shape(r->p, v);
  dst_zero_border(storage(r, v), sh.h, sh.w, sh.c, b.h, b.w);
}

long dst_step_macs(const dst_plan *p, int i) {
  const dst_step *s = &p->steps[i];
  const dst_node *nd = &p->nodes[i];
  if (nd->op != DST_OP_CONV && nd->op != DST_OP_LINEAR) return 0;
  if (s->path == DST_PATH_CSR) return (long)s->n_off * s->npix;
  const int whole = s->path == DST_PATH_DENSE16 || s->path == DST_PATH_DEPTHWISE || s->path == DST_PATH_GROUPED;
  const long per_out = whole ? (long)nd->cg * nd->kh * nd->kw : (long)dst_uhp_groups(nd) * nd->n;
  return per_out * nd->o * s->npix;
}

/* ---- compact UHP: pattern indices expanded one output block at a time ---- */

/* The bit-packed pattern indices of consecutive groups, LSB first, read a byte at a time. */
typedef struct {
  const uint8_t *next;
  uint32_t acc;
  int have;
} bit_reader;

static bit_reader bits_from(const uint8_t *packed, size_t bit) {
  const bit_reader r = {packed + (bit >> 3) + 1, (uint32_t)packed[bit >> 3] >> (bit & 7), 8 - (int)(bit & 7)};
  return r;
}

static int next_index(bit_reader *r, int bits) {
  while (r->have < bits) {
    r->acc |= (uint32_t)*r->next++ << r->have;
    r->have += 8;
  }
  const int v = (int)(r->acc & ((1u << bits) - 1));
  r->acc >>= bits;
  r->have -= bits;
  return v;
}

/*
 * Entry offsets of an output block whose channels share one pattern: each
 * kept position from its group's start, the group's tap offset plus its first
 * channel (flat groups: each position's own offset).
 */
void dst_expand_block(const dst_step *s, const dst_node *nd, int pattern_block, int32_t *off) {
  /* locals: the int32_t stores below could alias the step's fields, which the compiler would then reload per entry */
  const int n = nd->n, m = nd->m, bits = s->bits, groups = s->n_groups, flat = nd->flat, per_tap = nd->cg / nd->m;
  const int32_t *start = s->off;
  const uint8_t *kept = s->kept;
  bit_reader br = bits_from(s->pidx, (size_t)pattern_block * groups * bits);
  for (int g = 0, tap = 0, c0 = 0; g < groups; g++, off += n) {
    const uint8_t *pos = kept + next_index(&br, bits) * n;
    if (flat) {
      for (int k = 0; k < n; k++) off[k] = start[g * m + pos[k]];
      continue;
    }
    for (int k = 0; k < n; k++) off[k] = start[tap] + c0 + pos[k];
    /* groups run channel groups first, then taps (tap-major) */
    if ((c0 += m) == per_tap * m) c0 = 0, tap++;
  }
}

/* Gather indices of the 8 lanes of block b, each from its own channel's pattern; lanes past O read position 0 (weight 0). */
static void expand_lanes(const dst_step *s, const dst_node *nd, int b, int32_t *idx) {
  const int n = nd->n, bits = s->bits, groups = s->n_groups;
  for (int l = 0; l < 8; l++) {
    const int o = b * 8 + l;
    if (o >= nd->o) {
      for (int e = 0; e < groups * n; e++) idx[e * 8 + l] = 0;
      continue;
    }
    bit_reader br = bits_from(s->pidx, (size_t)(o / nd->block) * groups * bits);
    for (int g = 0; g < groups; g++) {
      const uint8_t *pos = s->kept + next_index(&br, bits) * n;
      for (int k = 0; k < n; k++) idx[(g * n + k) * 8 + l] = pos[k];
    }
  }
}

/* ---- one conv's parallel loop: tasks are (pixel chunk, output block) pairs ---- */

typedef struct {
  const runner *r;
  const dst_step *s;
  const dst_node *nd;
  const float *x;
  ptrdiff_t x_row, x_col;
  float *y;
  ptrdiff_t y_row;  /* floats per output row as stored */
  const float *res; /* a fused add's other input, laid out as y */
  int chunks;
  int u0, u1; /* the units (output pixels, or rows for rows8) this loop covers */
} layer_ctx;

static dst_conv_fn kernel_of(const dst_kernels *k, const dst_step *s, const dst_node *nd) {
  switch (s->path) {
    case DST_PATH_DENSE16: return k->dense16;
    case DST_PATH_SPARSE16: return k->sparse16;
    case DST_PATH_SPARSE8: return k->sparse8;
    case DST_PATH_GATHER8: return (k->gather_m_mask >> nd->m) & 1 ? k->gather8 : k->gather8_any;
    case DST_PATH_ROWS8: return k->rows8;
    default: return NULL;
  }
}

static void run_task(void *arg, int task) {
  const layer_ctx *c = arg;
  const dst_step *s = c->s;
  const dst_node *nd = c->nd;
  const int ow = nd->out_shape.w;
  const dst_conv_geo geo = {c->x, c->x_row, c->x_col, ow, c->y, nd->o, c->y_row, s->relu, s->bias, c->res};
  /* pixel-major, so a thread's share of the tasks is a band of output pixels */
  const int b = task % s->nblocks, ch = task / s->nblocks;
  const int p0 = c->u0 + (int)((long)(c->u1 - c->u0) * ch / c->chunks), p1 = c->u0 + (int)((long)(c->u1 - c->u0) * (ch + 1) / c->chunks);
  if (p0 == p1) return;
  switch (s->path) {
    case DST_PATH_DEPTHWISE: c->r->p->ops->conv_depthwise(&geo, p0, p1, nd->o, nd->kh * nd->kw, s->off, s->w); return;
    case DST_PATH_GROUPED: c->r->p->ops->conv_grouped(&geo, p0, p1, nd->o, nd->o / nd->groups, nd->cg, nd->kh * nd->kw, s->off, s->w); return;
    case DST_PATH_CSR: {
      const int o0 = b * s->ob, o1 = o0 + s->ob < nd->o ? o0 + s->ob : nd->o;
      c->r->p->ops->conv_csr(&geo, p0, p1, o0, o1, s->rowptr, s->off, s->w);
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
      if (s->pidx && s->path == DST_PATH_GATHER8) {
        expand_lanes(s, nd, b, c->r->scratch);
        t.idx = c->r->scratch;
      } else if (s->pidx) {
        dst_expand_block(s, nd, b * s->ob / nd->block, c->r->scratch);
        t.off = c->r->scratch;
      }
      kernel_of(c->r->k, s, nd)(&t);
    }
  }
}

/*
 * Tasks per layer: one per output block on one thread; with more threads,
 * about four per thread so a late or preempted thread costs little, cut
 * along pixels only when blocks are too few, each chunk kept >= 16 pixels.
 */
static int pixel_chunks(const dst_step *s, int units, int threads) {
  if (threads == 1) return 1;
  const int want = (4 * threads + s->nblocks - 1) / s->nblocks;
  /* chunks of >= 16 pixels, or >= 6 rows for rows8 (its row tiles need the height) */
  int most = units / (s->path == DST_PATH_ROWS8 ? 6 : 16);
  if (most < 1) most = 1;
  return want < most ? want : most;
}

typedef struct {
  const struct dst_ops *ops;
  const float *x;
  float *y;
  int h, w, c, ph, pw;
  int rows, tasks; /* rows of the padded image, split evenly over the tasks */
} pad_ctx;

static void pad_task(void *arg, int t) {
  const pad_ctx *k = arg;
  k->ops->pad_rows(k->x, k->h, k->w, k->c, k->ph, k->pw, k->rows * t / k->tasks, k->rows * (t + 1) / k->tasks, k->y);
}

typedef struct {
  const struct dst_ops *ops;
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
  if (i0 < end) k->ops->add(k->a + i0, k->b + i0, end - i0, k->relu, k->y + i0);
}

#if !defined(DST_BARE_METAL)
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
#endif

static int copy_tasks(const runner *r, int parallel, size_t floats) { return parallel && floats >= PARALLEL_MIN_FLOATS ? threads_of(r) : 1; }

/* The im2col rows of output rows [r0, r0 + rows) of a conv reading src. */
static void im2col_rows(const struct dst_ops *ops, const dst_step *s, const dst_node *nd, const float *src, int r0, int rows, float *col) {
  ops->im2col(src + (ptrdiff_t)r0 * nd->sh * s->wp * s->cin_total, s->wp, s->cin_total, nd->kh, nd->kw, nd->sh, nd->sw, nd->dh, nd->dw, rows,
             nd->out_shape.w, s->kpad, col);
}

/*
 * Input preparation, once per layer: the padded copy, the rows8 layout or
 * the im2col rows (all of them when col_rows covers the image; conv_rows
 * expands chunks otherwise). in is the input's storage, out the output's
 * pixel (0, 0), y_row its floats per stored row.
 */
static void conv_prepare(const runner *r, int i, const float *in, float *out, ptrdiff_t y_row, layer_ctx *c, int parallel) {
  const dst_step *s = &r->p->steps[i];
  const dst_node *nd = &r->p->nodes[i];
  const float *src = in + s->in_shift;
  if (s->pad) {
    pad_ctx k = {r->p->ops, in, r->arena + s->pad_at, nd->in_shape.h, nd->in_shape.w, s->cin_total, nd->ph, nd->pw, nd->in_shape.h + 2 * nd->ph, 1};
    k.tasks = copy_tasks(r, parallel, (size_t)k.rows * s->wp * s->cin_total);
    for_tasks(r, pad_task, &k, k.tasks);
    src = r->arena + s->pad_at;
  }
  *c = (layer_ctx){r, s, nd, src, (ptrdiff_t)nd->sh * s->wp * s->cin_total, (ptrdiff_t)nd->sw * s->cin_total, out, y_row, NULL, 1, 0, 0};
#if !defined(DST_BARE_METAL)
  if (s->path == DST_PATH_ROWS8) {
    prep_ctx pc = {r->k, in, &s->rg, r->arena + s->pad_at, 1};
    pc.tasks = copy_tasks(r, parallel, (size_t)s->rg.sh * s->rg.sw * s->rg.jq * s->rg.c * s->rg.hq * 8);
    for_tasks(r, prep_task, &pc, pc.tasks);
    c->x = r->arena + s->pad_at;
    c->x_row = 8;
    c->x_col = (ptrdiff_t)s->rg.c * s->rg.hq * 8;
  }
#endif
  if (s->im2col) {
    if (s->col_rows >= nd->out_shape.h) im2col_rows(r->p->ops, s, nd, src, 0, nd->out_shape.h, r->arena + s->col_at);
    c->x = r->arena + s->col_at;
    c->x_row = (ptrdiff_t)nd->out_shape.w * s->kpad;
    c->x_col = s->kpad;
  }
}

/*
 * Output rows [r0, r1) on the caller, row r0 written at y0: im2col a few rows
 * at a time (compact plans), or a band of a banded conv. src is the conv's
 * (padded) input; a fused residual is laid out as the whole output.
 */
static void conv_rows_serial(const runner *r, const layer_ctx *c, const float *src, int r0, int r1, float *y0) {
  const dst_step *s = c->s;
  const dst_node *nd = c->nd;
  const int chunked = s->im2col && s->col_rows < nd->out_shape.h, step = chunked ? s->col_rows : r1 - r0;
  const int per_row = s->units / nd->out_shape.h;
  for (int row = r0; row < r1; row += step) {
    const int rows = r1 - row < step ? r1 - row : step;
    layer_ctx pass = *c;
    if (chunked) im2col_rows(r->p->ops, s, nd, src, row, rows, r->arena + s->col_at);
    pass.x = chunked ? r->arena + s->col_at : c->x + (ptrdiff_t)row * c->x_row;
    pass.y = y0 + (ptrdiff_t)(row - r0) * c->y_row;
    pass.res = c->res ? c->res + (ptrdiff_t)row * c->y_row : NULL;
    pass.u0 = 0, pass.u1 = rows * per_row, pass.chunks = 1;
    for (int b = 0; b < s->nblocks; b++) run_task(&pass, b);
  }
}

/* Output rows [r0, r1) of a prepared conv; src is its (padded) input. */
static void conv_rows(const runner *r, layer_ctx *c, const float *src, int r0, int r1, int parallel) {
  const dst_step *s = c->s;
  if (s->im2col && s->col_rows < c->nd->out_shape.h) {
    conv_rows_serial(r, c, src, r0, r1, c->y + (ptrdiff_t)r0 * c->y_row);
    return;
  }
  const int per_row = s->units / c->nd->out_shape.h;
  c->u0 = r0 * per_row, c->u1 = r1 * per_row;
  c->chunks = parallel ? pixel_chunks(s, c->u1 - c->u0, threads_of(r)) : 1;
  for_tasks(r, run_task, c, s->nblocks * c->chunks);
}

/* Pooled rows [p0, p1) of pn from the conv rows in mid, whose row 0 is conv row r_mid. */
static void pool_rows(const runner *r, const dst_node *cn, const dst_node *pn, const float *mid, int r_mid, float *out, int p0, int p1) {
  const int ow = cn->out_shape.w, c = cn->o, r0 = p0 * pn->sh;
  const float *x = mid + (size_t)(r0 - r_mid) * ow * c;
  float *y = out + (size_t)p0 * pn->out_shape.w * c;
  if (pn->op == DST_OP_MAXPOOL && r->k->maxpool)
    r->k->maxpool(x, ow, c, pn->kh, pn->kw, pn->sh, pn->sw, p1 - p0, pn->out_shape.w, y);
  else
    r->p->ops->pool2d(x, cn->out_shape.h - r0, ow, c, pn->kh, pn->kw, pn->sh, pn->sw, 0, 0, p1 - p0, pn->out_shape.w, pn->op == DST_OP_MAXPOOL, y);
}

/* Conv rows pooled rows [p0, p1) read. */
static int pool_reach(const dst_node *cn, const dst_node *pn, int p1) {
  const int need = (p1 - 1) * pn->sh + pn->kh;
  return need < cn->out_shape.h ? need : cn->out_shape.h;
}

/*
 * A conv whose output holds one band only (compact plans): the band holds
 * the conv rows one band of pooled rows reads, so the whole conv output
 * never exists. Rows two bands share (kernel taller than stride) move to the
 * front of the band instead of being computed twice.
 */
static void conv_pool_banded(const runner *r, int i, const float *in, float *band, float *out) {
  const dst_step *s = &r->p->steps[i];
  const dst_node *cn = &r->p->nodes[i], *pn = &r->p->nodes[i + 1];
  const size_t row = (size_t)cn->out_shape.w * cn->o;
  layer_ctx c;
  conv_prepare(r, i, in, band, (ptrdiff_t)row, &c, 0);
  const float *src = s->pad ? r->arena + s->pad_at : in + s->in_shift;
  int first = 0, done = 0; /* band holds conv rows [first, done) */
  for (int p0 = 0; p0 < pn->out_shape.h; p0 += s->band_rows) {
    const int p1 = pn->out_shape.h - p0 < s->band_rows ? pn->out_shape.h : p0 + s->band_rows;
    const int r0 = p0 * pn->sh, r1 = pool_reach(cn, pn, p1);
    if (done > r0) memmove(band, band + (size_t)(r0 - first) * row, (size_t)(done - r0) * row * sizeof(float));
    else done = r0;
    first = r0;
    conv_rows_serial(r, &c, src, done, r1, band + (size_t)(done - r0) * row);
    done = r1;
    pool_rows(r, cn, pn, band, r0, out, p0, p1);
  }
}

/*
 * Bare-metal builds run compact plans (plan.h) on one thread, where every
 * pooled conv is banded: the host's parallel banding stays out of them.
 */
#if !defined(DST_BARE_METAL)
typedef struct {
  const runner *r;
  const dst_node *cn, *pn;
  const layer_ctx *conv;
  float *mid, *out;
  int bands;
} band_ctx;

/* One band of pooled rows and the conv rows only it reads, all output blocks: windows that do not overlap make bands independent. */
static void band_task(void *arg, int t) {
  const band_ctx *k = arg;
  const int ph = k->pn->out_shape.h, p0 = ph * t / k->bands, p1 = ph * (t + 1) / k->bands;
  if (p0 == p1) return;
  const int per_row = k->conv->s->units / k->cn->out_shape.h;
  layer_ctx c = *k->conv;
  c.u0 = p0 * k->pn->sh * per_row, c.u1 = pool_reach(k->cn, k->pn, p1) * per_row, c.chunks = 1;
  for (int b = 0; b < k->conv->s->nblocks; b++) run_task(&c, b);
  pool_rows(k->r, k->cn, k->pn, k->mid, 0, k->out, p0, p1);
}

/*
 * A conv and the pooling of its output, in bands of pooled rows small enough
 * to stay in cache. On a pool, each band is one task that pools what it
 * computed: one fork-join for both layers.
 */
static void conv_pool(const runner *r, int i, const float *in, float *mid, float *out, int parallel) {
  const dst_step *s = &r->p->steps[i];
  const dst_node *cn = &r->p->nodes[i], *pn = &r->p->nodes[i + 1];
  layer_ctx ctx;
  conv_prepare(r, i, in, mid, (ptrdiff_t)cn->out_shape.w * cn->o, &ctx, parallel);
  const float *src = s->pad ? r->arena + s->pad_at : in + s->in_shift;
  /* a band keeps >= 96 conv pixels (16 tiles), or its last, partial tile costs too much */
  const int min_conv_rows = (96 + cn->out_shape.w - 1) / cn->out_shape.w;
  const int threads = threads_of(r), most = pn->out_shape.h / ((min_conv_rows + pn->sh - 1) / pn->sh);
  /* about four bands per thread, and at least two, or a late thread holds up the layer; rows8 tiles need more rows than a band has */
  if (parallel && pn->kh <= pn->sh && most >= 2 * threads && s->path != DST_PATH_ROWS8 && !(s->im2col && s->col_rows < cn->out_shape.h)) {
    band_ctx k = {r, cn, pn, &ctx, mid, out, most < 4 * threads ? most : 4 * threads};
    for_tasks(r, band_task, &k, k.bands);
    return;
  }
  const size_t row_bytes = (size_t)pn->sh * cn->out_shape.w * cn->o * sizeof(float);
  const size_t target = parallel ? 65536 : 16384;
  int band = row_bytes >= target ? 1 : (int)(target / row_bytes);
  /* rows8 tiles up to 11 conv rows and needs them all at once: thin bands leave its FMAs waiting on each other */
  if (s->path == DST_PATH_ROWS8) band = pn->out_shape.h;
  int done = 0;
  for (int p0 = 0; p0 < pn->out_shape.h; p0 += band) {
    const int p1 = p0 + band < pn->out_shape.h ? p0 + band : pn->out_shape.h, need = pool_reach(cn, pn, p1);
    if (need > done) conv_rows(r, &ctx, src, done, need, parallel), done = need;
    pool_rows(r, cn, pn, mid, 0, out, p0, p1);
  }
}
#endif

/* Crop and normalise into x, pixel (0, 0) of the input value, rows row floats apart; -1 when a float pixel is not finite. */
static int preprocess(const dst_plan *p, const float *in, const uint8_t *in_u8, float *x, ptrdiff_t row) {
  int finite = 1;
  const int c = p->input.c, h = p->input.h, w = p->input.w;
  const int top = (p->crop_h - h) / 2, left = (p->crop_w - w) / 2;
  for (int ch = 0; ch < c; ch++) {
    const float mean = p->mean ? p->mean[ch] : 0.0f, inv = p->std ? 1.0f / p->std[ch] : 1.0f;
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        const size_t at = ((size_t)ch * p->crop_h + top + i) * p->crop_w + left + j;
        const float v = in ? in[at] : (float)in_u8[at] / 255.0f;
        /* v - v is 0 for every finite v, NaN for NaN and the infinities */
        finite &= v - v == 0.0f;
        x[i * row + (ptrdiff_t)j * c + ch] = (v - mean) * inv;
      }
  }
  return finite ? 0 : -1;
}

/* Runs node i; returns how many nodes that was: 2 when a pooling or an add ran in the conv. */
static int run_node(const runner *r, int i) {
  const dst_plan *p = r->p;
  const dst_step *s = &p->steps[i];
  const dst_node *nd = &p->nodes[i];
  const int pooled = threads_of(r) > 1;
  if (s->pool_next) {
#if defined(DST_BARE_METAL)
    conv_pool_banded(r, i, storage(r, nd->in[0]), storage(r, i + 1), storage(r, i + 2));
#else
    if (s->band_rows > 0) conv_pool_banded(r, i, storage(r, nd->in[0]), storage(r, i + 1), storage(r, i + 2));
    else conv_pool(r, i, storage(r, nd->in[0]), storage(r, i + 1), storage(r, i + 2), pooled && dst_step_macs(p, i) >= PARALLEL_MIN_MACS);
#endif
    return 2;
  }
  const struct dst_ops *ops = p->ops;
  const float *x = storage(r, nd->in[0]);
  const dst_shape is = nd->in_shape;
  const size_t n = (size_t)is.c * is.h * is.w;
  switch (nd->op) {
    case DST_OP_CONV:
    case DST_OP_LINEAR: {
      layer_ctx c;
      const int parallel = pooled && dst_step_macs(p, i) >= PARALLEL_MIN_MACS;
      zero_border(r, s->out_value);
      conv_prepare(r, i, x, origin(r, s->out_value), dst_value_row(p, s->out_value), &c, parallel);
      if (s->add_next) c.res = origin(r, s->res_value);
      conv_rows(r, &c, s->pad ? r->arena + s->pad_at : x + s->in_shift, 0, nd->out_shape.h, parallel);
      return s->add_next ? 2 : 1;
    }
    case DST_OP_RELU: ops->relu(x, n, storage(r, i + 1)); break;
    case DST_OP_ADD: {
      add_ctx k = {ops, x, storage(r, nd->in[1]), storage(r, i + 1), n, nd->relu, (int)((n + 15) / 16), 1};
      k.tasks = copy_tasks(r, pooled, n);
      for_tasks(r, add_task, &k, k.tasks);
      break;
    }
    case DST_OP_MAXPOOL:
    case DST_OP_AVGPOOL:
      ops->pool2d(x, is.h, is.w, is.c, nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->out_shape.h, nd->out_shape.w,
                 nd->op == DST_OP_MAXPOOL, storage(r, i + 1));
      break;
    case DST_OP_GLOBALAVGPOOL: ops->global_avgpool(origin(r, nd->in[0]), is.h, is.w, dst_value_row(p, nd->in[0]), is.c, storage(r, i + 1)); break;
    case DST_OP_FLATTEN: ops->hwc_to_chw(x, is.h, is.w, is.c, storage(r, i + 1)); break;
    case DST_OP_SOFTMAX: ops->softmax(x, n, storage(r, i + 1)); break;
  }
  return 1;
}

int dst_run(const dst_plan *p, const dst_kernels *k, float *arena, int32_t *scratch, const dst_sched *sched, const float *in,
            const uint8_t *in_u8, float *out) {
  const runner r = {p, k, arena, scratch, sched};
  const int profiling = sched && sched->now_ms && sched->node_ms;
  zero_border(&r, 0);
  if (preprocess(p, in, in_u8, origin(&r, 0), dst_value_row(p, 0))) return -1;
  for (int i = 0; i < p->n_nodes;) {
    const double t = profiling ? sched->now_ms() : 0.0;
    const int ran = run_node(&r, i);
    if (profiling) sched->node_ms[i] += sched->now_ms() - t;
    i += ran;
  }
  const dst_shape os = p->out_shape;
  if (os.rank == 3) p->ops->hwc_to_chw(storage(&r, p->output), os.h, os.w, os.c, out);
  else memcpy(out, storage(&r, p->output), (size_t)os.c * os.h * os.w * sizeof(float));
  return 0;
}
