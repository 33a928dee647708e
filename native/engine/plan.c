/*
 * The planner: per conv/linear a kernel path and input geometry, the fusions
 * (a conv with the pooling or the add after it), the zero borders values keep
 * so convs read them in place, and one arena for every value and scratch
 * buffer. Plain C: no allocation, no OS, no threads.
 */
#include "plan.h"

#include <string.h>

#include "run.h"

/* UHP layers with own masks (B=1) and fewer kept entries per output channel run dense (measured on AVX2: first convs, 1x1 shortcuts). */
#define OWN_MASK_MIN_ENTRIES 32

/* rows8 input bytes one chunk of entries may read per tile: most of L1, the rest for weights and offsets. */
#define ROWS_CHUNK_BYTES 24576

/* Compact plans: bytes of conv output per band, kept in cache between the conv writing it and the pooling reading it. */
#define BAND_BYTES 16384

/* Compact plans: floats of one im2col pass (16 KiB), enough rows to amortise the kernel calls. */
#define COL_FLOATS 4096

static ptrdiff_t round16(ptrdiff_t n) { return (n + 15) & ~(ptrdiff_t)15; }

typedef struct {
  char *base;
  size_t used;
} carver;

static void *carve(carver *c, size_t bytes) {
  const size_t at = (c->used + 63) & ~(size_t)63;
  c->used = at + bytes;
  return c->base ? c->base + at : NULL;
}

/* A buffer's life in steps and its place: values from the step that writes them to the last that reads them. */
typedef struct {
  int first, last;
  ptrdiff_t floats, offset;
} interval;

/* The plan's arrays and the planner's working space, in the order carved. */
typedef struct {
  dst_step *steps;
  dst_qnode *qnodes;
  ptrdiff_t *val_at;
  dst_border *border;
  char *ok;
  int *last_read;
  interval *ivs;     /* values, then each step's pad and im2col buffers */
  interval **placed; /* in placement order */
  int *busy;         /* placed buffers alive with the one being placed, by offset */
} plan_mem;

static size_t carve_all(const dst_model *m, carver *c, plan_mem *pm) {
  const size_t nv = (size_t)m->n_nodes + 1, n_ivs = nv + 2 * (size_t)m->n_nodes;
  pm->steps = carve(c, sizeof *pm->steps * (size_t)m->n_nodes);
  pm->qnodes = m->int8 ? carve(c, sizeof *pm->qnodes * (size_t)m->n_nodes) : NULL;
  pm->val_at = carve(c, sizeof *pm->val_at * nv);
  pm->border = carve(c, sizeof *pm->border * nv);
  pm->ok = carve(c, nv);
  pm->last_read = carve(c, sizeof *pm->last_read * nv);
  pm->ivs = carve(c, sizeof *pm->ivs * n_ivs);
  pm->placed = carve(c, sizeof *pm->placed * n_ivs);
  pm->busy = carve(c, sizeof *pm->busy * n_ivs);
  return (c->used + 63) & ~(size_t)63;
}

size_t dst_plan_mem_bytes(const dst_model *m) {
  carver c = {0};
  plan_mem pm;
  return carve_all(m, &c, &pm);
}

static int choose_path(const dst_node *nd, const dst_target *t) {
  if (t->int8) {
    if (nd->groups > 1) return DST_PATH_GROUPED;
    return nd->pattern == DST_PAT_UHP && nd->block % 16 == 0 ? DST_PATH_SPARSE16 : DST_PATH_DENSE16;
  }
  if (nd->groups > 1) return nd->cg == 1 && nd->o == nd->groups ? DST_PATH_DEPTHWISE : DST_PATH_GROUPED;
  if (nd->pattern == DST_PAT_CSR) return DST_PATH_CSR;
  if (nd->pattern == DST_PAT_DENSE) return DST_PATH_DENSE16;
  if (nd->block % 16 == 0) return DST_PATH_SPARSE16;
  if (nd->block % 8 == 0) return DST_PATH_SPARSE8;
  if (!t->has_rows8) return DST_PATH_GATHER8;
  /* Few kept entries per channel leave the own-mask kernels' per-tile overhead unamortised: the dense kernel (pruned weights as zeros) wins. */
  if (dst_uhp_groups(nd) * nd->n < OWN_MASK_MIN_ENTRIES) return DST_PATH_DENSE16;
  /* Pixels in lanes pay off once an output row fills most of a vector; below that, channels in lanes. */
  return nd->out_shape.w >= 6 ? DST_PATH_ROWS8 : DST_PATH_GATHER8;
}

/* Kernel path and the geometry that does not depend on borders. */
static void plan_conv(const dst_node *nd, const dst_target *t, dst_step *s) {
  s->path = choose_path(nd, t);
  s->ob = s->path == DST_PATH_SPARSE8 || s->path == DST_PATH_GATHER8 || s->path == DST_PATH_ROWS8 ? 8 : 16;
  if (s->path == DST_PATH_DEPTHWISE || s->path == DST_PATH_GROUPED) s->ob = nd->o; /* one block: split over pixels */
  s->nblocks = (nd->o + s->ob - 1) / s->ob;
  s->cin_total = nd->in_shape.c;
  s->npix = s->units = nd->out_shape.h * nd->out_shape.w;
  if (s->path == DST_PATH_ROWS8) {
    const int seg = (nd->out_shape.w + 7) / 8;
    /* the last kernel column (row) reaches this many vectors (rows) further */
    s->rg = (dst_rows_geo){nd->in_shape.h, nd->in_shape.w, nd->in_shape.c, nd->ph, nd->pw, nd->sh, nd->sw,
                           seg, seg + (nd->kw - 1) * nd->dw / nd->sw, nd->out_shape.h + (nd->kh - 1) * nd->dh / nd->sh};
    s->units = nd->out_shape.h;
    /* one kernel column's inputs for an 11-row tile; a chunk stays within ROWS_CHUNK_BYTES of them */
    const long col_bytes = (long)nd->in_shape.c * (11 + (nd->kh - 1) * nd->dh / nd->sh) * 32;
    s->kx_chunk = ROWS_CHUNK_BYTES / col_bytes > 1 ? (int)(ROWS_CHUNK_BYTES / col_bytes) : 1;
    s->cin = (nd->kw + s->kx_chunk - 1) / s->kx_chunk;
  }
  /* gather8 reads a group's M inputs as one vector, which flat groups only are in an im2col row */
  s->im2col = s->path == DST_PATH_GATHER8 && nd->flat;
  s->kpad = s->im2col ? dst_uhp_groups(nd) * nd->m : 0;
  s->col_rows = nd->out_shape.h;
  if (s->im2col && t->compact) {
    const int rows = COL_FLOATS / (nd->out_shape.w * s->kpad);
    s->col_rows = rows < 1 ? 1 : rows < nd->out_shape.h ? rows : nd->out_shape.h;
  }
}

/* Readers of value v, the graph output counting as one. */
static int readers(const dst_model *m, int v) {
  int n = m->output == v;
  for (int j = 0; j < m->n_nodes; j++)
    for (int k = 0; k < m->nodes[j].n_in; k++) n += m->nodes[j].in[k] == v;
  return n;
}

/*
 * int8 plans fuse no add (it would need the conv's codes before its own
 * requantization) and band the pooling only on microcontrollers (compact),
 * where the RAM is; the pooling reads the conv's codes either way.
 */
static void plan_fusions(const dst_model *m, const dst_target *t, dst_step *steps) {
  for (int i = 0; i + 1 < m->n_nodes; i++) {
    const dst_node *c = &m->nodes[i], *p = &m->nodes[i + 1];
    dst_step *s = &steps[i];
    const int alone = readers(m, i + 1) == 1;
    s->pool_next = c->op == DST_OP_CONV && (p->op == DST_OP_MAXPOOL || p->op == DST_OP_AVGPOOL) && p->in[0] == i + 1 && p->ph == 0 &&
                   p->pw == 0 && alone && (!t->int8 || t->compact);
    /* the unfused add rounds the conv's output, then adds: the stores add the same two floats, so results are bit-identical */
    s->add_next = (c->op == DST_OP_CONV || c->op == DST_OP_LINEAR) && p->op == DST_OP_ADD && !c->relu && alone &&
                  (p->in[0] == i + 1) != (p->in[1] == i + 1) && !t->int8;
    if (s->add_next) s->res_value = p->in[p->in[0] == i + 1];
    if (s->pool_next && t->compact) {
      const long row_bytes = (long)p->sh * c->out_shape.w * c->out_shape.c * (t->int8 ? 1 : 4);
      const long rows = BAND_BYTES / row_bytes;
      s->band_rows = rows < 1 ? 1 : rows < p->out_shape.h ? (int)rows : p->out_shape.h;
    }
  }
  for (int i = 0; i < m->n_nodes; i++) {
    steps[i].relu = steps[i].add_next ? m->nodes[i + 1].relu : m->nodes[i].relu;
    steps[i].out_value = steps[i].add_next ? i + 2 : i + 1;
  }
}

/*
 * A conv's stored output keeps a zero border as wide as the largest padding
 * of the convs that read it, when nothing else reads it: no reader needs a
 * padded copy then. A fused add's residual must be laid out as the output it
 * is added into: both take the wider border, or none when one of them cannot
 * keep one.
 */
static void plan_borders(const dst_model *m, const dst_step *steps, char *ok, dst_border *border) {
  const int nv = m->n_nodes + 1;
  memset(ok, 0, (size_t)nv);
  memset(border, 0, sizeof *border * (size_t)nv);
  ok[0] = 1; /* the input, which preprocessing writes */
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].op == DST_OP_CONV && !steps[i].pool_next) ok[steps[i].out_value] = 1;
  ok[m->output] = 0;
  for (int j = 0; j < m->n_nodes; j++) {
    const dst_node *r = &m->nodes[j];
    const int conv_reader = r->op == DST_OP_CONV && steps[j].path != DST_PATH_ROWS8;
    /* an add run in a conv's stores reads its residual through that conv; global pooling reads around a border */
    if ((r->op == DST_OP_ADD && j > 0 && steps[j - 1].add_next) || r->op == DST_OP_GLOBALAVGPOOL) continue;
    for (int k = 0; k < r->n_in; k++) {
      const int v = r->in[k];
      if (!conv_reader) ok[v] = 0;
      else if (ok[v]) {
        if (r->ph > border[v].h) border[v].h = r->ph;
        if (r->pw > border[v].w) border[v].w = r->pw;
      }
    }
  }
  for (int v = 0; v < nv; v++)
    if (!ok[v]) border[v] = (dst_border){0, 0};
  /* borders only grow to the widest padding or drop to none for good, so this ends */
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < m->n_nodes; i++) {
      if (!steps[i].add_next) continue;
      const int r = steps[i].res_value, y = i + 2;
      dst_border *a = &border[r], *b = &border[y];
      if (a->h == b->h && a->w == b->w) continue;
      if (ok[r] && ok[y]) *a = *b = (dst_border){a->h > b->h ? a->h : b->h, a->w > b->w ? a->w : b->w};
      else *a = *b = (dst_border){0, 0}, ok[r] = ok[y] = 0;
      changed = 1;
    }
  }
}

/* Where the conv reads its input (its border decided): in place, or from a zero-bordered copy. */
static void plan_input(const dst_node *nd, dst_border b, dst_step *s) {
  const int w = nd->in_shape.w + 2 * b.w;
  s->hp = nd->in_shape.h + 2 * nd->ph;
  s->wp = nd->in_shape.w + 2 * nd->pw;
  s->pad = s->path != DST_PATH_ROWS8 && (nd->ph > b.h || nd->pw > b.w);
  if (s->path != DST_PATH_ROWS8 && !s->pad) {
    s->wp = w;
    s->in_shift = ((ptrdiff_t)(b.h - nd->ph) * w + (b.w - nd->pw)) * s->cin_total;
  }
}

/* Size of the rows8 input layout. */
static ptrdiff_t rows_floats(const dst_rows_geo *g) { return (ptrdiff_t)g->sh * g->sw * g->jq * g->c * g->hq * 8; }

/* Lowest offset where iv overlaps no placed buffer alive at the same step; busy is working space. */
static void place(interval *iv, interval *const *placed, int n_placed, int *busy) {
  int n = 0;
  for (int i = 0; i < n_placed; i++)
    if (placed[i]->first <= iv->last && iv->first <= placed[i]->last) {
      /* insertion by offset: a step has few live buffers */
      int k = n++;
      while (k > 0 && placed[busy[k - 1]]->offset > placed[i]->offset) busy[k] = busy[k - 1], k--;
      busy[k] = i;
    }
  ptrdiff_t at = 0;
  for (int k = 0; k < n; k++) {
    const interval *p = placed[busy[k]];
    if (at + iv->floats <= p->offset) break;
    if (p->offset + p->floats > at) at = p->offset + p->floats;
  }
  iv->offset = at;
}

/*
 * Buffers alive at the same step never overlap. A value lives from the step
 * that writes it to the last that reads it (the graph output to the end),
 * pad and im2col buffers for their step. A conv and the pooling or add it
 * runs count as one step: its input and scratch stay alive while it writes
 * the fused node's output. Placed step by step, largest first within one.
 */
static void plan_arena(const dst_model *m, dst_plan *p, dst_step *steps, plan_mem *pm) {
  const int n = m->n_nodes, nv = n + 1;
  int *last = pm->last_read;
  for (int v = 0; v < nv; v++) last[v] = -2;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < m->nodes[i].n_in; k++) last[m->nodes[i].in[k]] = steps[i].pool_next || steps[i].add_next ? i + 1 : i;
  last[m->output] = n;
  interval *ivs = pm->ivs, *pads = ivs + nv, *cols = pads + n;
  interval **placed = pm->placed;
  int *busy = pm->busy, n_placed = 0;
  for (int v = 0; v < nv; v++) ivs[v] = (interval){0, 0, 0, -1};
  ivs[0] = (interval){-1, last[0] > -1 ? last[0] : -1, round16((ptrdiff_t)dst_value_floats(p, 0)), 0};
  place(&ivs[0], placed, n_placed, busy);
  placed[n_placed++] = &ivs[0];
  for (int i = 0; i < n; i++) {
    pads[i] = cols[i] = (interval){0, 0, 0, -1};
    if (i > 0 && steps[i - 1].add_next) continue; /* the add runs in the conv's stores and writes nothing itself */
    const dst_node *nd = &m->nodes[i];
    dst_step *s = &steps[i];
    const int v = s->out_value, end = s->pool_next || s->add_next ? i + 1 : i;
    ptrdiff_t floats = (ptrdiff_t)dst_value_floats(p, v);
    if (s->band_rows > 0) {
      const dst_node *pn = &m->nodes[i + 1];
      floats = (ptrdiff_t)((s->band_rows - 1) * pn->sh + pn->kh) * nd->out_shape.w * nd->out_shape.c;
    }
    ivs[v] = (interval){i, last[v] > i ? last[v] : i, round16(floats), 0};
    interval *mine[3] = {&ivs[v], NULL, NULL};
    int k = 1;
    if (nd->op == DST_OP_CONV || nd->op == DST_OP_LINEAR) {
      const ptrdiff_t prep = s->path == DST_PATH_ROWS8 ? rows_floats(&s->rg) : s->pad ? (ptrdiff_t)s->hp * s->wp * s->cin_total : 0;
      if (prep > 0) pads[i] = (interval){i, end, round16(prep), 0}, mine[k++] = &pads[i];
      if (s->im2col) {
        int rows = s->col_rows;
        if (s->band_rows > 0) {
          const dst_node *pn = &m->nodes[i + 1];
          const int band_conv_rows = (s->band_rows - 1) * pn->sh + pn->kh;
          rows = rows < band_conv_rows ? rows : band_conv_rows;
        }
        cols[i] = (interval){i, end, round16((ptrdiff_t)rows * nd->out_shape.w * s->kpad), 0}, mine[k++] = &cols[i];
      }
    }
    for (int a = 1; a < k; a++)
      for (int b = a; b > 0 && mine[b]->floats > mine[b - 1]->floats; b--) {
        interval *t = mine[b];
        mine[b] = mine[b - 1], mine[b - 1] = t;
      }
    for (int a = 0; a < k; a++) {
      place(mine[a], placed, n_placed, busy);
      placed[n_placed++] = mine[a];
    }
  }
  p->arena_floats = 16;
  for (int i = 0; i < n_placed; i++)
    if (placed[i]->offset + placed[i]->floats > p->arena_floats) p->arena_floats = placed[i]->offset + placed[i]->floats;
  for (int v = 0; v < nv; v++) pm->val_at[v] = ivs[v].floats > 0 || v == 0 ? ivs[v].offset : -1;
  for (int i = 0; i < n; i++) {
    steps[i].pad_at = pads[i].floats > 0 ? pads[i].offset : -1;
    steps[i].col_at = cols[i].floats > 0 ? cols[i].offset : -1;
  }
  /* the step whose live buffers reach furthest: what a RAM limit names */
  ptrdiff_t peak = -1;
  for (int i = 0; i < n; i++) {
    ptrdiff_t reach = 0;
    for (int k = 0; k < n_placed; k++)
      if (placed[k]->first <= i && i <= placed[k]->last && placed[k]->offset + placed[k]->floats > reach) reach = placed[k]->offset + placed[k]->floats;
    if (reach > peak) peak = reach, p->peak_step = i;
  }
}

int dst_plan_build(const dst_model *m, const dst_target *t, void *mem, dst_plan *p) {
  carver c = {mem, 0};
  plan_mem pm;
  memset(mem, 0, carve_all(m, &c, &pm));
  *p = (dst_plan){.n_nodes = m->n_nodes, .output = m->output, .crop_h = m->crop_h, .crop_w = m->crop_w, .compact = t->compact,
                  .int8 = t->int8, .in_qz = m->in_qz, .in_qs = m->in_qs,
                  .input = m->input, .out_shape = m->out_shape, .nodes = m->nodes, .steps = pm.steps, .val_at = pm.val_at,
                  .border = pm.border, .mean = m->mean, .std = m->std};
  dst_step *steps = pm.steps;
  for (int i = 0; pm.qnodes && i < m->n_nodes; i++) {
    const dst_node *nd = &m->nodes[i];
    pm.qnodes[i] = (dst_qnode){nd->qs, nd->qz, {nd->rq[0], nd->rq[1], nd->rq[2], nd->rq[3], nd->rq[4], nd->rq[5]}};
  }
  p->qnodes = pm.qnodes;
  for (int i = 0; i < m->n_nodes; i++) {
    steps[i].pad_at = steps[i].col_at = -1;
    if (m->nodes[i].op == DST_OP_CONV || m->nodes[i].op == DST_OP_LINEAR) plan_conv(&m->nodes[i], t, &steps[i]);
  }
  plan_fusions(m, t, steps);
  plan_borders(m, steps, pm.ok, pm.border);
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].op == DST_OP_CONV || m->nodes[i].op == DST_OP_LINEAR) plan_input(&m->nodes[i], pm.border[m->nodes[i].in[0]], &steps[i]);
  plan_arena(m, p, steps, &pm);
  return 0;
}

#define DST_OP_ENUM(f) USES_##f,
#define DST_OP_NAME(f) #f,
enum { DST_OPS_NAMES(DST_OP_ENUM) USES_COUNT };

int dst_plan_ops_used(const dst_plan *p, const char **names) {
  static const char *const all[] = {DST_OPS_NAMES(DST_OP_NAME)};
  if (p->int8) return 0; /* int8 runs its own ops (kernels/ops_q8.h) */
  int used[USES_COUNT] = {0};
  for (int i = 0; i < p->n_nodes; i++) {
    const dst_step *s = &p->steps[i];
    switch (p->nodes[i].op) {
      case DST_OP_RELU: used[USES_relu] = 1; break;
      case DST_OP_ADD: used[USES_add] |= !(i > 0 && p->steps[i - 1].add_next); break;
      case DST_OP_MAXPOOL:
      case DST_OP_AVGPOOL: used[USES_pool2d] = 1; break;
      case DST_OP_GLOBALAVGPOOL: used[USES_global_avgpool] = 1; break;
      case DST_OP_FLATTEN: used[USES_hwc_to_chw] = 1; break;
      case DST_OP_SOFTMAX: used[USES_softmax] = 1; break;
      default: break;
    }
    used[USES_conv_csr] |= s->path == DST_PATH_CSR;
    used[USES_conv_depthwise] |= s->path == DST_PATH_DEPTHWISE;
    used[USES_conv_grouped] |= s->path == DST_PATH_GROUPED;
    used[USES_im2col] |= s->im2col;
    used[USES_pad_rows] |= s->pad;
  }
  used[USES_hwc_to_chw] |= p->out_shape.rank == 3;
  int n = 0;
  for (int k = 0; k < USES_COUNT; k++)
    if (used[k]) names[n++] = all[k];
  return n;
}

int dst_plan_kernels_used(const dst_plan *p, const char **names) {
  /* indexed by enum dst_path; NULL: a path that runs an op of run.h, not a kernel */
  static const char *const kernel_of_path[] = {NULL, "dense16", "sparse16", "sparse8", "gather8", "rows8", NULL, NULL, NULL};
  int used[sizeof kernel_of_path / sizeof *kernel_of_path] = {0};
  for (int i = 0; i < p->n_nodes; i++) used[p->steps[i].path] = 1;
  int n = 0;
  for (size_t k = 0; k < sizeof kernel_of_path / sizeof *kernel_of_path; k++)
    if (used[k] && kernel_of_path[k]) names[n++] = kernel_of_path[k];
  return n;
}
