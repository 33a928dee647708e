/*
 * The host engine: loader (reader.c) + planner (plan.c) + packer (pack.c) +
 * run-time (run.c) + thread pool. It owns the memory the plain-C layers work
 * in, and chooses per image whether the pool runs it (the schedule).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <math.h>

#include "kernels/kernels.h"
#include "kernels/ops_q8.h"
#include "kernels/q8.h"
#include "graph.h"
#include "pack.h"
#include "plan.h"
#include "run.h"
#include "threadpool.h"
#include "uhp_engine.h"

/* schedule auto: both modes keep their last MODE_WINDOW image times; every MODE_RETRY images the other mode runs MODE_BURST in a row. */
#define MODE_WINDOW 5
#define MODE_RETRY 64
#define MODE_BURST 3

struct dst_engine {
  dst_model model;
  int isa;
  const dst_kernels *k;
  const dst_q8_kernels *q8;
  dst_target target;
  dst_plan plan;
  void *plan_mem;
  void **packed;              /* per node: its packed weights, or NULL */
  dst_pack_counts *counts;    /* per node: the lengths of its packed arrays */
  float *arena; /* int8 plans: arena_floats bytes */
  int32_t *scratch;
  int8_t *qlut;  /* int8: plan.qlut */
  size_t weight_bytes;
  dst_pool *pool;
  int schedule;
  /*
   * schedule auto: whether the pool pays off is measured, not assumed: on a
   * loaded machine a worker preempted while holding a task stalls the whole
   * layer. Recent image times per mode (0: caller alone, 1: pool) decide; the
   * other mode is retried now and then so a change in load is noticed.
   */
  double recent[2][MODE_WINDOW];
  int n_recent[2], next[2], runs, trying;
  int last_mode; /* of the image before, -1 before the first */
  int profiling;
  double *node_ms; /* per node, allocated at load so profiling allocates nothing per run */
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

#define DST_OP_ALL(f) .f = dst_##f,
/* The host runs any model: every op. */
static const struct dst_ops ops_all = {DST_OPS_NAMES(DST_OP_ALL)};

static const dst_kernels *kernels_of(int isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case DST_ISA_AVX2: return &dst_kernels_avx2;
    case DST_ISA_AVX512: return &dst_kernels_avx512;
#endif
#if defined(__aarch64__)
    case DST_ISA_NEON: return &dst_kernels_neon;
#endif
    default: return &dst_kernels_scalar;
  }
}

/* The int8 kernels of a kernel set: integer results do not depend on it, only speed. */
static const dst_q8_kernels *q8_kernels_of(int isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case DST_ISA_AVX2:
    case DST_ISA_AVX512: return &dst_q8_avx2; /* there is no AVX-512 int8 kernel: AVX-512 CPUs run the AVX2 one */
#endif
#if defined(__aarch64__)
    case DST_ISA_NEON: return &dst_q8_neon;
#endif
    default: return &dst_q8_scalar;
  }
}

/* The code of every 8-bit pixel value per input channel, as dst_run_q8 quantizes a float pixel p / 255. */
static int8_t *input_lut(const dst_model *m) {
  int8_t *lut = malloc((size_t)m->input.c * 256);
  for (int ch = 0; lut && ch < m->input.c; ch++) {
    const float mean = m->mean ? m->mean[ch] : 0.0f, inv = m->std ? 1.0f / m->std[ch] : 1.0f;
    for (int v = 0; v < 256; v++) {
      const float t = ((float)v / 255.0f - mean) * inv;
      lut[ch * 256 + v] = dst_q8_quantize(t, m->in_qs, m->in_qz);
    }
  }
  return lut;
}

/* Plans and packs the read model; the packed copies replace the decoded weights. */
static int plan_and_pack(dst_engine *e, char *err, size_t errlen) {
  dst_model *m = &e->model;
  const size_t plan_bytes = (dst_plan_mem_bytes(m) + 63) & ~(size_t)63;
  e->plan_mem = aligned_alloc(64, plan_bytes);
  e->packed = calloc((size_t)m->n_nodes, sizeof *e->packed);
  e->counts = calloc((size_t)m->n_nodes, sizeof *e->counts);
  e->node_ms = calloc((size_t)m->n_nodes, sizeof *e->node_ms);
  if (!e->plan_mem || !e->packed || !e->counts || !e->node_ms) goto oom;
  dst_plan_build(m, &e->target, e->plan_mem, &e->plan);
  e->plan.ops = &ops_all;
  if (m->int8) {
    if (!(e->qlut = input_lut(m))) goto oom;
    e->plan.qlut = e->qlut;
  }
  /* the host owns the plan's memory: packing completes its steps */
  dst_step *steps = (dst_step *)e->plan.steps;
  ptrdiff_t scratch_ints = 1;
  for (int i = 0; i < m->n_nodes; i++) {
    dst_node *nd = &m->nodes[i];
    if (nd->op != DST_OP_CONV && nd->op != DST_OP_LINEAR) continue;
    void *work = malloc(dst_pack_scratch_bytes(nd) + 1);
    if (!work) goto oom;
    const size_t bytes = dst_pack(&e->plan, &steps[i], nd, NULL, work, NULL);
    e->packed[i] = aligned_alloc(64, bytes ? bytes : 64);
    if (!e->packed[i]) {
      free(work);
      goto oom;
    }
    dst_pack(&e->plan, &steps[i], nd, e->packed[i], work, &e->counts[i]);
    free(work);
    e->weight_bytes += bytes;
    if (steps[i].pidx) {
      const ptrdiff_t need = steps[i].path == DST_PATH_GATHER8 ? (ptrdiff_t)steps[i].n_off * nd->n * 8 : steps[i].n_off;
      if (need > scratch_ints) scratch_ints = need;
    }
    free(nd->dense), free(nd->mask), free(nd->bias), free(nd->qw), free(nd->qbias), free(nd->qreq);
    nd->dense = NULL, nd->mask = NULL, nd->bias = NULL, nd->qw = NULL, nd->qbias = NULL, nd->qreq = NULL;
  }
  e->plan.scratch_ints = e->plan.compact ? scratch_ints : 0;
  int adds = 0;
  for (int i = 0; i < m->n_nodes; i++) adds |= m->nodes[i].op == DST_OP_ADD;
  /* int8 adds take their tables from the scratch (a microcontroller build's RAM: only when the model has one) */
  if (m->int8 && adds && e->plan.scratch_ints < DST_Q8_ADD_LUT) e->plan.scratch_ints = scratch_ints = DST_Q8_ADD_LUT;
  const size_t arena_bytes = (size_t)e->plan.arena_floats * (m->int8 ? 1 : sizeof(float));
  e->arena = aligned_alloc(64, arena_bytes);
  e->scratch = malloc(sizeof *e->scratch * (size_t)scratch_ints);
  if (!e->arena || !e->scratch) {
    set_err(err, errlen, "cannot allocate a %zu-byte arena", arena_bytes);
    return -1;
  }
  memset(e->arena, 0, arena_bytes);
  return 0;
oom:
  set_err(err, errlen, "out of memory while planning and packing weights");
  return -1;
}

dst_engine *dst_engine_load_target(const uint8_t *bytes, size_t len, int isa, int threads, int flags, char *err, size_t errlen) {
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
  e->k = kernels_of(isa);
  e->last_mode = -1;
  e->schedule = DST_SCHEDULE_DEFAULT;
  /* compact plans are for microcontrollers: no rows8 (it needs an offset per kept weight, twice a UHP layer's flash) */
  const int compact = (flags & DST_TARGET_COMPACT) != 0;
  e->q8 = q8_kernels_of(isa);
  if (dst_model_read(&e->model, bytes, len, err, errlen)) {
    free(e);
    return NULL;
  }
  e->target = (dst_target){e->k->rows8 != NULL && !compact && !(flags & DST_TARGET_NO_ROWS8), compact, e->model.int8};
  if (plan_and_pack(e, err, errlen)) {
    dst_engine_free(e);
    return NULL;
  }
  if (!(e->pool = dst_pool_new(threads))) {
    dst_engine_free(e);
    set_err(err, errlen, "cannot start %d threads", threads);
    return NULL;
  }
  return e;
}

dst_engine *dst_engine_load(const uint8_t *bytes, size_t len, int isa, int threads, char *err, size_t errlen) {
  return dst_engine_load_target(bytes, len, isa, threads, 0, err, errlen);
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

static void pool_parallel(void *pool, dst_task_fn fn, void *ctx, int tasks) { dst_pool_run(pool, fn, ctx, tasks); }

/* 1: the pool runs this image. */
static int use_pool(dst_engine *e) {
  if (dst_pool_threads(e->pool) == 1) return 0;
  switch (e->schedule) {
    case DST_SCHEDULE_CALLER: return 0;
    case DST_SCHEDULE_AUTO: return pick_mode(e);
    default: return 1;
  }
}

int dst_engine_run(dst_engine *e, const float *in, float *out, int batch) {
  const size_t in_size = dst_engine_input_size(e), out_size = dst_engine_output_size(e);
  for (int b = 0; b < batch; b++) {
    const int pooled = use_pool(e);
    const int timed = e->schedule == DST_SCHEDULE_AUTO && dst_pool_threads(e->pool) > 1;
    const double t0 = timed ? now_ms() : 0.0;
    const dst_sched sched = {pooled ? dst_pool_threads(e->pool) : 1, e->pool, pool_parallel, e->profiling ? now_ms : NULL, e->node_ms};
    if (pooled) dst_pool_begin(e->pool);
    const int failed = e->model.int8 ? dst_run_q8(&e->plan, e->q8, (int8_t *)e->arena, e->scratch, &sched, in + b * in_size, NULL, out + b * out_size, NULL)
                                     : dst_run(&e->plan, e->k, e->arena, e->scratch, &sched, in + b * in_size, NULL, out + b * out_size);
    if (failed) return b + 1;
    if (timed) record_mode(e, pooled, now_ms() - t0);
  }
  return 0;
}

int dst_engine_set_schedule(dst_engine *e, int schedule) {
  if (schedule != DST_SCHEDULE_AUTO && schedule != DST_SCHEDULE_POOL && schedule != DST_SCHEDULE_CALLER) return -1;
  e->schedule = schedule;
  e->n_recent[0] = e->n_recent[1] = e->next[0] = e->next[1] = e->runs = 0;
  e->last_mode = -1;
  return 0;
}

int dst_engine_schedule(const dst_engine *e) { return e->schedule; }

const dst_plan *dst_engine_plan(const dst_engine *e) { return &e->plan; }

const dst_pack_counts *dst_engine_pack_counts(const dst_engine *e, int i) { return i >= 0 && i < e->model.n_nodes ? &e->counts[i] : NULL; }

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

size_t dst_engine_memory(const dst_engine *e) { return (size_t)e->plan.arena_floats * (e->model.int8 ? 1 : sizeof(float)) + e->weight_bytes; }

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
  const dst_node *nd = &e->model.nodes[i];
  static const char *const q8_paths[] = {"none", "int8 dense16", "int8 sparse16", "", "", "", "", "int8 grouped", "int8 grouped"};
  if (nd->op != DST_OP_CONV && nd->op != DST_OP_LINEAR) return ops[nd->op];
  return e->model.int8 ? q8_paths[e->plan.steps[i].path] : paths[e->plan.steps[i].path];
}

long dst_engine_node_macs(const dst_engine *e, int i) { return node_index_ok(e, i) ? dst_step_macs(&e->plan, i) : 0; }

int dst_engine_node_fused(const dst_engine *e, int i) {
  return node_index_ok(e, i) && i > 0 && (e->plan.steps[i - 1].pool_next || e->plan.steps[i - 1].add_next);
}

void dst_engine_free(dst_engine *e) {
  if (!e) return;
  dst_pool_free(e->pool);
  for (int i = 0; e->packed && i < e->model.n_nodes; i++) free(e->packed[i]);
  free(e->packed);
  free(e->counts);
  free(e->plan_mem);
  free(e->node_ms);
  free(e->arena);
  free(e->scratch);
  free(e->qlut);
  dst_model_free(&e->model);
  free(e);
}
