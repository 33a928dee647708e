/*
 * The execution plan: what the planner decides for a model on one target,
 * as plain structs. The host engine builds it at load time; the C exporter
 * asks for the same plan through the binding and writes it as const tables,
 * so a microcontroller runs exactly what the engine planned (run.h).
 *
 * Field lists are X-macros so the binding exports exactly the fields the
 * structs hold and the generated tables can name them.
 */
#ifndef DST_PLAN_H
#define DST_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "graph.h"

enum dst_path { DST_PATH_NONE, DST_PATH_DENSE16, DST_PATH_SPARSE16, DST_PATH_SPARSE8, DST_PATH_GATHER8, DST_PATH_ROWS8,
                DST_PATH_CSR, DST_PATH_DEPTHWISE, DST_PATH_GROUPED };

/* Rows and columns of zeros a value keeps around it, so the convs that read it pad in place instead of copying. */
typedef struct dst_border {
  int h, w;
} dst_border;

/* What the planner may use on a target: the kernel set's paths, and whether weights must be compact (flash). */
typedef struct dst_target {
  int has_rows8; /* the target's kernel set has rows8 */
  /*
   * Microcontroller layout: UHP weights keep the file's bit-packed pattern
   * indices, expanded one output block at a time into scratch (no offset per
   * kept weight in flash); a conv and the pooling of its output share a band
   * buffer, not the whole conv output; im2col runs a few rows at a time.
   */
  int compact;
  /* An int8 model (graph.h): int8 paths (dense16, sparse16 for blocks of 16), no fusions, the arena in bytes. */
  int int8;
} dst_target;

/* Integer fields of a step: X(name). */
#define DST_STEP_INT_FIELDS(X)                                                                                          \
  X(path) X(ob) X(nblocks) X(pad) X(im2col) X(kpad) X(col_rows) X(hp) X(wp) X(cin_total) X(kx_chunk) X(npix) X(units) \
  X(n_off) X(cin) X(pool_next) X(band_rows) X(add_next) X(res_value) X(relu) X(bits) X(n_groups) X(out_value)
/* Size fields (floats or entries) of a step. */
#define DST_STEP_SIZE_FIELDS(X) X(w_bstride) X(off_bstride) X(idx_bstride) X(pad_at) X(col_at) X(in_shift)

/* One graph node as planned: step i is node i. Only convs and linears fill the kernel fields. */
typedef struct dst_step {
#define DST_DECLARE_INT(f) int f;
  DST_STEP_INT_FIELDS(DST_DECLARE_INT)
#undef DST_DECLARE_INT
  /*
   * pad: the input is copied into a zero-bordered buffer at pad_at (floats
   * into the arena) first; otherwise in_shift floats from the input's storage
   * lead to the window of output pixel 0. im2col: rows of kpad floats at
   * col_at, col_rows output rows per pass. pool_next: the next node pools this
   * conv's output alone and runs in its bands (band_rows pooled rows per band
   * when the conv output holds one band only: compact plans). add_next: the
   * next node adds value res_value to this conv's output, done in its stores.
   * out_value: the value the conv writes (the add's when fused).
   */
  ptrdiff_t w_bstride, off_bstride, idx_bstride, pad_at, col_at, in_shift;
#if !defined(DST_BARE_METAL)
  dst_rows_geo rg; /* rows8: its input layout (microcontroller plans have no rows8: no flash for it) */
#endif
  /* packed weights, per output block: see kernels.h for each path's layout */
  const float *w, *bias;
  const int32_t *off, *idx, *rowptr;
  /* compact UHP: per pattern block and group, a pattern index of `bits` bits, LSB first; kept[index * n + k] its positions */
  const uint8_t *pidx, *kept;
  /* int8 (kernels/q8.h): weight pairs (w_bstride bytes per block); per block 16 biases, 16 multipliers then 16 shifts */
  const int8_t *qw;
  const int32_t *qbias, *qreq;
} dst_step;

/* An int8 node's output quantization, and an add's requantization (uhp-format.md, version 2). */
typedef struct dst_qnode {
  float qs;
  int qz;
  int32_t rq[6]; /* ma, sa, mb, sb, mo, so */
} dst_qnode;

/* Integer fields of a plan. */
#define DST_PLAN_INT_FIELDS(X) X(n_nodes) X(output) X(crop_h) X(crop_w) X(compact) X(int8) X(in_qz)
/* Float fields of a plan: the int8 input's scale. */
#define DST_PLAN_FLOAT_FIELDS(X) X(in_qs)
#define DST_PLAN_SIZE_FIELDS(X) X(arena_floats) X(scratch_ints) X(peak_step)

struct dst_ops;

typedef struct dst_plan {
#define DST_DECLARE_INT(f) int f;
  DST_PLAN_INT_FIELDS(DST_DECLARE_INT)
#undef DST_DECLARE_INT
  /* arena_floats: elements of the arena, floats or (int8 plans) bytes; peak_step: the step whose live buffers end furthest in it */
  ptrdiff_t arena_floats, scratch_ints, peak_step;
  float in_qs;                /* int8: the input's scale (its zero point is in_qz) */
  const int8_t *qlut;         /* int8: per input channel, the code of each 8-bit pixel value (256 entries), or NULL */
  const dst_qnode *qnodes;    /* int8: per node; NULL for float plans */
  dst_shape input, out_shape;
  const dst_node *nodes;
  const dst_step *steps;
  const ptrdiff_t *val_at;    /* value id -> floats into the arena where its storage starts */
  const dst_border *border;   /* value id -> its zero border */
  const float *mean, *std;    /* input.c values each, or NULL */
  const struct dst_ops *ops;  /* the ops it uses (run.h); set by whoever holds the functions, not by the planner */
} dst_plan;

/*
 * Bytes of the memory dst_plan_build needs for a model: the plan's arrays
 * and its working space, carved from one block so planning allocates nothing.
 */
size_t dst_plan_mem_bytes(const dst_model *m);

/*
 * Plans m for target t into plan, whose arrays live in mem (mem_bytes >=
 * dst_plan_mem_bytes(m), 64-byte aligned). The weights are not packed yet:
 * dst_pack (pack.h) fills each conv step's weight fields. Returns 0.
 */
int dst_plan_build(const dst_model *m, const dst_target *t, void *mem, dst_plan *plan);

/* Names (run.h's DST_OPS_NAMES) of the ops plan p uses, into names; returns their count. */
int dst_plan_ops_used(const dst_plan *p, const char **names);

/* Kernel paths (dst_kernels fields: dense16, sparse16, sparse8, gather8, rows8) plan p uses, into names; returns their count. */
int dst_plan_kernels_used(const dst_plan *p, const char **names);

/* Shape of value v (0 is the graph input, node i writes value i + 1) and its floats as stored, with its border. */
static inline dst_shape dst_value_shape(const dst_plan *p, int v) { return v == 0 ? p->input : p->nodes[v - 1].out_shape; }

/* Elements per stored row of value v, and from the start of its storage to its pixel (0, 0). */
static inline ptrdiff_t dst_value_row(const dst_plan *p, int v) {
  const dst_shape s = dst_value_shape(p, v);
  return (ptrdiff_t)(s.w + 2 * p->border[v].w) * s.c;
}

static inline ptrdiff_t dst_value_origin(const dst_plan *p, int v) {
  return p->border[v].h * dst_value_row(p, v) + (ptrdiff_t)p->border[v].w * dst_value_shape(p, v).c;
}

static inline size_t dst_value_floats(const dst_plan *p, int v) {
  const dst_shape s = dst_value_shape(p, v);
  const dst_border b = p->border[v];
  return (size_t)s.c * (s.h + 2 * b.h) * (s.w + 2 * b.w);
}

#endif
