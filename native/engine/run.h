/*
 * The run-time: runs a planned, packed model (plan.h) layer by layer. Plain
 * C: no allocation, no OS, no threads of its own; a host passes a scheduler
 * to spread a layer's tasks over its threads. A microcontroller build is this
 * file, the kernels and the const tables the exporter writes.
 */
#ifndef DST_RUN_H
#define DST_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/q8.h"
#include "plan.h"

/*
 * The ops outside the kernel sets (kernels/ops.h), named as their functions
 * without dst_. A plan names only those its model uses: a microcontroller
 * build then links only those (softmax alone pulls in libm's expf and
 * newlib's errno state); the host engine names them all.
 */
#define DST_OPS_NAMES(X) \
  X(relu) X(add) X(pool2d) X(global_avgpool) X(hwc_to_chw) X(softmax) X(conv_csr) X(conv_depthwise) X(conv_grouped) X(im2col) X(pad_rows)

struct dst_ops {
  void (*relu)(const float *x, size_t n, float *y);
  void (*add)(const float *a, const float *b, size_t n, int relu, float *y);
  void (*pool2d)(const float *x, int h, int w, int c, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow, int is_max, float *y);
  void (*global_avgpool)(const float *x, int h, int w, ptrdiff_t row, int c, float *y);
  void (*hwc_to_chw)(const float *x, int h, int w, int c, float *y);
  void (*softmax)(const float *x, size_t n, float *y);
  void (*conv_csr)(const dst_conv_geo *g, int p0, int p1, int o0, int o1, const int32_t *rowptr, const int32_t *off, const float *val);
  void (*conv_depthwise)(const dst_conv_geo *g, int p0, int p1, int channels, int taps, const int32_t *tap_off, const float *w);
  void (*conv_grouped)(const dst_conv_geo *g, int p0, int p1, int o, int og, int cg, int taps, const int32_t *tap_off, const float *w);
  void (*im2col)(const float *x, int wp, int c, int kh, int kw, int sh, int sw, int dh, int dw, int oh, int ow, int kpad, float *out);
  void (*pad_rows)(const float *x, int h, int w, int c, int ph, int pw, int r0, int r1, float *out);
};

#ifndef DST_TASK_FN_DEFINED
#define DST_TASK_FN_DEFINED
typedef void (*dst_task_fn)(void *ctx, int task);
#endif

/* How a host spreads one image's work; NULL runs everything on the caller. */
typedef struct dst_sched {
  int threads; /* tasks are cut for this many threads; 1: the caller alone */
  void *pool;
  /* Runs fn(ctx, t) for every t in [0, tasks), returns when all are done. */
  void (*parallel)(void *pool, dst_task_fn fn, void *ctx, int tasks);
  /* Profiling: when both are set, each node's wall time (ms) is added to node_ms[i]. */
  double (*now_ms)(void);
  double *node_ms;
} dst_sched;

/* Runs fn(ctx, t) for every t in [0, tasks): over the scheduler's pool when it has threads (hosts), else in order. */
void dst_sched_for(const dst_sched *sched, dst_task_fn fn, void *ctx, int tasks);

/*
 * One image: in (plan->input.c x crop_h x crop_w floats, CHW) or in_u8 (the
 * same as 8-bit pixels, divided by 255 first) is cropped, normalised and run;
 * out receives the output (CHW or [F]). arena holds plan->arena_floats floats
 * (64-byte aligned), scratch plan->scratch_ints ints. Returns 0, or -1 when
 * the float image holds a NaN or an infinity: every kernel set would treat
 * it differently (vector max and min drop NaN, scalar compares keep it), so
 * no target runs it and out is left as it was.
 */
int dst_run(const dst_plan *p, const dst_kernels *k, float *arena, int32_t *scratch, const dst_sched *sched, const float *in,
             const uint8_t *in_u8, float *out);

/* Multiply-adds conv step i performs per image: a UHP layer run dense counts all of them. */
long dst_step_macs(const dst_plan *p, int i);

/* Compact UHP (plan.h): the entry offsets of the output channels of pattern block pattern_block, into off (step s's n_off of them). */
void dst_expand_block(const dst_step *s, const dst_node *nd, int pattern_block, int32_t *off);

/*
 * One image through an int8 plan (uhp-format.md, version 2): in or in_u8 as
 * for dst_run, quantized as the input's q says (in_u8 through plan->qlut
 * when set: no float at all); out receives the output dequantized, out_q
 * (when not NULL) its codes. arena holds plan->arena_floats bytes (64-byte
 * aligned), scratch plan->scratch_ints ints (int8 plans: at least
 * DST_Q8_ADD_LUT, kernels/ops_q8.h). Returns 0, or -1 for a float image
 * holding a NaN or an infinity.
 */
int dst_run_q8(const dst_plan *p, const dst_q8_kernels *k, int8_t *arena, int32_t *scratch, const dst_sched *sched, const float *in,
               const uint8_t *in_u8, float *out, int8_t *out_q);

#endif
