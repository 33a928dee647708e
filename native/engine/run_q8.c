/*
 * The int8 run-time (run.h's dst_run_q8): the layer loop of an int8 plan.
 * Plain C as run.c; convs through the kernel set's conv16 (kernels/q8.h),
 * adds through its add where it has one, every other op through
 * kernels/ops_q8.h.
 */
#include <math.h>
#include <string.h>

#include "kernels/ops_q8.h"
#include "run.h"

/* Output pixels per task below which a conv is not split over threads. */
#define Q8_MIN_TASK_PIXELS 16

typedef struct {
  const dst_plan *p;
  const dst_q8_kernels *k;
  int8_t *arena;
  int32_t *scratch;
  const dst_sched *sched;
} q8_runner;

static int threads_of(const q8_runner *r) { return r->sched ? r->sched->threads : 1; }

static void for_tasks(const q8_runner *r, dst_task_fn fn, void *ctx, int tasks) { dst_sched_for(r->sched, fn, ctx, tasks); }

static int8_t *storage(const q8_runner *r, int v) { return r->arena + r->p->val_at[v]; }

static int zero_of(const dst_plan *p, int v) { return v ? p->qnodes[v - 1].qz : p->in_qz; }


static int8_t *origin(const q8_runner *r, int v) { return storage(r, v) + dst_value_origin(r->p, v); }

/* The arena is shared over a run: a border is set to the zero point before each write of v. */
static void fill_border(const q8_runner *r, int v) {
  const dst_border b = r->p->border[v];
  if (b.h == 0 && b.w == 0) return;
  const dst_shape sh = dst_value_shape(r->p, v);
  dst_q8_fill_border(storage(r, v), sh.h, sh.w, sh.c, b.h, b.w, (int8_t)zero_of(r->p, v));
}

typedef struct {
  const q8_runner *r;
  const dst_step *s;
  const dst_node *nd;
  const int8_t *x; /* window of output pixel 0 */
  ptrdiff_t x_row, x_col;
  int8_t *y;       /* output pixel 0 */
  ptrdiff_t y_row;
  int npix;        /* output pixels to compute: all, or a band's rows */
  int chunks, zq, lo;
} conv_ctx;

/* Tasks are (pixel chunk, output block) pairs, pixel-major: a thread's share is a band of output pixels. */
static void conv_task(void *arg, int task) {
  const conv_ctx *c = arg;
  const dst_step *s = c->s;
  const dst_node *nd = c->nd;
  const int b = task % s->nblocks, ch = task / s->nblocks;
  const int p0 = (int)((long)c->npix * ch / c->chunks), p1 = (int)((long)c->npix * (ch + 1) / c->chunks);
  if (p0 == p1) return;
  if (s->path == DST_PATH_GROUPED) {
    const dst_q8_task t = {c->x, c->x_row, c->x_col, nd->out_shape.w, p0, p1, c->y, nd->o, c->y_row, nd->o, c->zq, c->lo,
                           s->qbias, s->qreq, s->qreq + nd->o, s->qw, NULL, 0};
    dst_q8_conv_grouped(&t, nd->o, nd->o / nd->groups, nd->cg, nd->kh * nd->kw, s->off);
    return;
  }
  const int32_t *off = s->off + b * s->off_bstride;
  if (s->pidx) {
    dst_expand_block(s, nd, b * 16 / nd->block, c->r->scratch);
    off = c->r->scratch;
  }
  const int lanes = nd->o - b * 16 < 16 ? nd->o - b * 16 : 16;
  const int32_t *req = s->qreq + b * 32;
  const dst_q8_task t = {c->x, c->x_row, c->x_col, nd->out_shape.w, p0, p1, c->y + b * 16, nd->o, c->y_row, lanes, c->zq, c->lo,
                         s->qbias + b * 16, req, req + 16, s->qw + b * s->w_bstride, off, s->n_off};
  c->r->k->conv16(&t);
}

/* The conv's (padded) input: where output pixel 0's window starts. */
static const int8_t *conv_source(const q8_runner *r, int i) {
  const dst_plan *p = r->p;
  const dst_step *s = &p->steps[i];
  const dst_node *nd = &p->nodes[i];
  const int v = nd->in[0];
  if (!s->pad) return storage(r, v) + s->in_shift;
  int8_t *padded = r->arena + s->pad_at;
  dst_q8_pad(origin(r, v), dst_value_row(p, v), nd->in_shape.h, nd->in_shape.w, s->cin_total, nd->ph, nd->pw, (int8_t)zero_of(p, v), padded);
  return padded;
}

static conv_ctx conv_context(const q8_runner *r, int i, const int8_t *src, int8_t *y, ptrdiff_t y_row) {
  const dst_plan *p = r->p;
  const dst_step *s = &p->steps[i];
  const dst_node *nd = &p->nodes[i];
  const conv_ctx c = {r, s, nd, src, (ptrdiff_t)nd->sh * s->wp * s->cin_total, (ptrdiff_t)nd->sw * s->cin_total, y, y_row, s->npix, 1,
                      zero_of(p, i + 1), nd->relu ? zero_of(p, i + 1) : -128};
  return c;
}

static void run_conv(const q8_runner *r, int i) {
  const dst_plan *p = r->p;
  const dst_step *s = &p->steps[i];
  const int8_t *src = conv_source(r, i);
  fill_border(r, i + 1);
  /* compact plans expand each block's offsets into the one scratch: a single task at a time */
  const int threads = p->compact ? 1 : threads_of(r);
  conv_ctx c = conv_context(r, i, src, origin(r, i + 1), dst_value_row(p, i + 1));
  c.chunks = s->npix / Q8_MIN_TASK_PIXELS;
  c.chunks = c.chunks < 1 ? 1 : c.chunks > threads ? threads : c.chunks;
  for_tasks(r, conv_task, &c, s->nblocks * c.chunks);
}

/*
 * A conv and the pooling of its output in bands of pooled rows (compact
 * plans, plan.h's pool_next): its storage holds the conv rows one band
 * reads, rows two bands share moving to its front, so the conv's whole
 * output never exists. One task at a time, as every compact conv.
 */
static void run_conv_pool_banded(const q8_runner *r, int i) {
  const dst_plan *p = r->p;
  const dst_step *s = &p->steps[i];
  const dst_node *cn = &p->nodes[i], *pn = &p->nodes[i + 1];
  const int ow = cn->out_shape.w;
  const size_t row = (size_t)ow * cn->o;
  int8_t *band = storage(r, i + 1), *out = storage(r, i + 2);
  conv_ctx c = conv_context(r, i, conv_source(r, i), band, (ptrdiff_t)row);
  const int8_t *src = c.x;
  int first = 0, done = 0; /* band holds conv rows [first, done) */
  for (int p0 = 0; p0 < pn->out_shape.h; p0 += s->band_rows) {
    const int p1 = pn->out_shape.h - p0 < s->band_rows ? pn->out_shape.h : p0 + s->band_rows;
    const int r0 = p0 * pn->sh, need = (p1 - 1) * pn->sh + pn->kh, r1 = need < cn->out_shape.h ? need : cn->out_shape.h;
    if (done > r0) memmove(band, band + (size_t)(r0 - first) * row, (size_t)(done - r0) * row);
    else done = r0;
    first = r0;
    c.x = src + done * c.x_row;
    c.y = band + (size_t)(done - r0) * row;
    c.npix = (r1 - done) * ow;
    for (int b = 0; b < s->nblocks; b++) conv_task(&c, b);
    done = r1;
    dst_q8_pool(band, r1 - r0, ow, cn->o, pn->kh, pn->kw, pn->sh, pn->sw, 0, 0, p1 - p0, pn->out_shape.w, pn->op == DST_OP_MAXPOOL,
                zero_of(p, i + 1), out + (size_t)p0 * pn->out_shape.w * cn->o);
  }
}

/* Crops and quantizes the image into the input value; -1 when a float pixel is not finite. */
static int quantize_input(const q8_runner *r, const float *in, const uint8_t *in_u8) {
  const dst_plan *p = r->p;
  const int c = p->input.c, h = p->input.h, w = p->input.w, z = p->in_qz;
  const int top = (p->crop_h - h) / 2, left = (p->crop_w - w) / 2;
  const ptrdiff_t row = dst_value_row(p, 0);
  int8_t *x = origin(r, 0);
  int finite = 1;
  fill_border(r, 0);
  for (int ch = 0; ch < c; ch++) {
    const float mean = p->mean ? p->mean[ch] : 0.0f, inv = p->std ? 1.0f / p->std[ch] : 1.0f;
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        const size_t at = ((size_t)ch * p->crop_h + top + i) * p->crop_w + left + j;
        int8_t *q = &x[i * row + (ptrdiff_t)j * c + ch];
        if (in_u8 && p->qlut) {
          *q = p->qlut[ch * 256 + in_u8[at]];
          continue;
        }
        const float v = in ? in[at] : (float)in_u8[at] / 255.0f;
        /* v - v is 0 for every finite v, NaN for NaN and the infinities */
        finite &= v - v == 0.0f;
        const float t = (v - mean) * inv;
        *q = finite ? dst_q8_quantize(t, p->in_qs, z) : 0;
      }
  }
  return finite ? 0 : -1;
}

/* The output value in CHW (or [F]) order: dequantized into out, codes into out_q. */
static void write_output(const q8_runner *r, float *out, int8_t *out_q) {
  const dst_plan *p = r->p;
  const int v = p->output, z = zero_of(p, v);
  const float s = v ? p->qnodes[v - 1].qs : p->in_qs;
  const dst_shape sh = dst_value_shape(p, v);
  const ptrdiff_t row = dst_value_row(p, v);
  const int8_t *x = origin(r, v);
  for (int ch = 0; ch < sh.c; ch++)
    for (int i = 0; i < sh.h; i++)
      for (int j = 0; j < sh.w; j++) {
        const int8_t q = x[i * row + (ptrdiff_t)j * sh.c + ch];
        const size_t at = ((size_t)ch * sh.h + i) * sh.w + j;
        if (out) out[at] = (float)(q - z) * s;
        if (out_q) out_q[at] = q;
      }
}

int dst_run_q8(const dst_plan *p, const dst_q8_kernels *k, int8_t *arena, int32_t *scratch, const dst_sched *sched, const float *in,
               const uint8_t *in_u8, float *out, int8_t *out_q) {
  const q8_runner r = {p, k, arena, scratch, sched};
  if (quantize_input(&r, in, in_u8)) return -1;
  for (int i = 0; i < p->n_nodes; i++) {
    const dst_node *nd = &p->nodes[i];
    const dst_shape is = nd->in_shape;
    const size_t n = (size_t)is.c * is.h * is.w;
    const int zin = zero_of(p, nd->in[0]);
    const double t0 = sched && sched->now_ms && sched->node_ms ? sched->now_ms() : 0.0;
    int8_t *y = storage(&r, i + 1);
    switch (nd->op) {
      case DST_OP_CONV:
      case DST_OP_LINEAR:
        if (p->steps[i].pool_next) run_conv_pool_banded(&r, i);
        else run_conv(&r, i);
        break;
      case DST_OP_RELU: dst_q8_relu(storage(&r, nd->in[0]), n, zin, y); break;
      case DST_OP_ADD:
        (k->add ? k->add : dst_q8_add)(storage(&r, nd->in[0]), storage(&r, nd->in[1]), n, zin, zero_of(p, nd->in[1]), p->qnodes[i].rq, zero_of(p, i + 1),
                                       nd->relu ? zero_of(p, i + 1) : -128, r.scratch, y);
        break;
      case DST_OP_MAXPOOL:
      case DST_OP_AVGPOOL:
        dst_q8_pool(storage(&r, nd->in[0]), is.h, is.w, is.c, nd->kh, nd->kw, nd->sh, nd->sw, nd->ph, nd->pw, nd->out_shape.h, nd->out_shape.w,
                    nd->op == DST_OP_MAXPOOL, zin, y);
        break;
      case DST_OP_GLOBALAVGPOOL: dst_q8_global_avgpool(storage(&r, nd->in[0]), is.h, is.w, is.c, zin, y); break;
      case DST_OP_FLATTEN:
        if (is.rank == 3) dst_q8_hwc_to_chw(storage(&r, nd->in[0]), is.h, is.w, is.c, y);
        else memcpy(y, storage(&r, nd->in[0]), n);
        break;
      default: break; /* softmax: the reader refuses it in int8 files */
    }
    if (t0 > 0.0) sched->node_ms[i] += sched->now_ms() - t0;
    if (nd->op == DST_OP_CONV && p->steps[i].pool_next) i++; /* pooled in the conv's bands */
  }
  write_output(&r, out, out_q);
  return 0;
}
