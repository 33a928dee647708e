/*
 * The run-time: runs a planned, packed model (plan.h) layer by layer. Plain
 * C: no allocation, no OS, no threads of its own; a host passes a scheduler
 * to spread a layer's tasks over its threads. A microcontroller build is this
 * file, the kernels and the const tables the exporter writes.
 */
#ifndef DST_RUN_H
#define DST_RUN_H

#include <stdint.h>

#include "kernels/kernels.h"
#include "plan.h"

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

/*
 * One image: in (plan->input.c x crop_h x crop_w floats, CHW) or in_u8 (the
 * same as 8-bit pixels, divided by 255 first) is cropped, normalised and run;
 * out receives the output (CHW or [F]). arena holds plan->arena_floats floats
 * (64-byte aligned), scratch plan->scratch_ints ints.
 */
void dst_run(const dst_plan *p, const dst_kernels *k, float *arena, int32_t *scratch, const dst_sched *sched, const float *in,
             const uint8_t *in_u8, float *out);

/* Multiply-adds conv step i performs per image: a UHP layer run dense counts all of them. */
long dst_step_macs(const dst_plan *p, int i);

#endif
