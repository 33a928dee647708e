/** Text of model.h, model.c, weights.h and weights.c for a planned graph. */
import { ShapeError } from '../../errors.js';
import { patternRanks } from '../uhp-pattern.js';
import type { Graph } from '../ir.js';
import { arrayDeclaration, arrayDefinition, floatLiteral } from './c-literals.js';
import { packLayer, type PackedLayer } from './pack.js';
import type { Border, ConvPlan, GraphPlan, NodePlan, Placement } from './plan.js';

export const MARKER = 'dst C export';

export interface ModelSources {
  files: Map<string, string>;
  /** Bytes of const weight data (values, indices, offsets, biases). */
  weightBytes: number;
  arenaBytes: number;
  scratchBytes: number;
}

const PATH_ENUM = { dense16: 'PATH_DENSE16', sparse16: 'PATH_SPARSE16', sparse8: 'PATH_SPARSE8', gather8: 'PATH_GATHER8', csr: 'PATH_CSR', depthwise: 'PATH_DEPTHWISE', grouped: 'PATH_GROUPED' } as const;

/** Positions kept by each pattern index of N:M, N bytes per index, in index order. */
function keptTable(m: number, n: number): number[] {
  const ranks = patternRanks(m, n);
  const rows: number[][] = [];
  ranks.forEach((rank, mask) => {
    if (rank < 0) return;
    const pos: number[] = [];
    for (let j = 0; j < m; j++) if ((mask >> j) & 1) pos.push(j);
    rows[rank] = pos;
  });
  return rows.flat();
}

class WeightFile {
  readonly defs: string[] = [];
  readonly decls: string[] = [];
  bytes = 0;
  add(type: 'float' | 'int32_t' | 'uint8_t', name: string, values: ArrayLike<number>, comment: string): string {
    this.defs.push(`/* ${comment} */\n${arrayDefinition(type, name, values, comment)}`);
    this.decls.push(arrayDeclaration(type, name, values.length));
    this.bytes += Math.max(1, values.length) * (type === 'uint8_t' ? 1 : 4);
    return name;
  }
}

function layerDefinition(id: number, cp: ConvPlan, relu: boolean, packed: PackedLayer, wf: WeightFile, kept: Map<string, string>): string {
  const name = cp.node.name;
  const fields: [string, string | number][] = [
    ['path', PATH_ENUM[cp.path]],
    ['h', cp.h], ['w', cp.w], ['c', cp.c], ['ph', cp.ph], ['pw', cp.pw], ['wp', cp.wp],
    ['kh', cp.kh], ['kw', cp.kw], ['sh', cp.sh], ['sw', cp.sw], ['dh', cp.dh], ['dw', cp.dw],
    ['oh', cp.oh], ['ow', cp.ow], ['o', cp.o], ['cg', cp.cg], ['groups', cp.groups],
    ['y_row', cp.yRow], ['kpad', cp.kpad], ['col_rows', cp.colRows], ['relu', relu ? 1 : 0], ['ob', cp.ob], ['nblocks', cp.nblocks],
    ['n_off', packed.nOff], ['cin', packed.cin],
    ['weights', wf.add('float', `dst_w${id}`, packed.w, `${name}: ${cp.path} weights`)],
    ['w_stride', packed.wStride],
    ['bias', wf.add('float', `dst_b${id}`, packed.bias, `${name}: bias`)],
    ['off', wf.add('int32_t', `dst_off${id}`, packed.off, `${name}: input offsets`)],
  ];
  if (packed.rowptr) fields.push(['rowptr', wf.add('int32_t', `dst_rowptr${id}`, packed.rowptr, `${name}: CSR row starts`)]);
  const u = packed.uhp;
  if (u) {
    const key = `${u.n}_${u.m}`;
    if (!kept.has(key)) kept.set(key, wf.add('uint8_t', `dst_kept_${key}`, keptTable(u.m, u.n), `${u.n}:${u.m}: kept positions of each pattern index`));
    fields.push(
      ['n', u.n], ['m', u.m], ['block', u.block], ['n_groups', u.groups], ['bits', u.bits], ['flat', cp.flat && cp.path !== 'gather8' ? 1 : 0],
      ['idx', wf.add('uint8_t', `dst_idx${id}`, u.indices, `${name}: ${u.n}:${u.m}:${u.block} pattern indices, ${u.bits} bits each`)],
      ['kept', kept.get(key) as string],
    );
  }
  return `/* ${name} */\nstatic const layer L${id} = {${fields.map(([k, v]) => `.${k} = ${v}`).join(', ')}};\n`;
}

/** Scratch ints the generated code expands one output block's pattern indices into. */
function scratchInts(cp: ConvPlan, packed: PackedLayer): number {
  if (!packed.uhp) return 0;
  return cp.path === 'gather8' ? packed.uhp.groups * packed.uhp.n * 8 : packed.nOff;
}

const RUNTIME = `enum { PATH_DENSE16, PATH_SPARSE16, PATH_SPARSE8, PATH_GATHER8, PATH_CSR, PATH_DEPTHWISE, PATH_GROUPED };

/* One conv or linear (a 1x1 conv on a 1x1 image), NHWC, as the engine plans it. */
typedef struct layer {
  int path;
  int h, w, c, ph, pw, wp;
  int kh, kw, sh, sw, dh, dw;
  int oh, ow, o, cg, groups;
  ptrdiff_t y_row; /* floats per stored output row: more than ow * o when the output keeps a zero border */
  int kpad, col_rows, relu, ob, nblocks, n_off, cin;
  int n, m, block, n_groups, bits;
  int flat; /* sparse paths: off holds one offset per group position, not per group */
  const float *weights;
  size_t w_stride;
  const float *bias;
  const int32_t *off, *rowptr;
  const uint8_t *idx, *kept;
} layer;

#if defined(DST_KERNELS_AVX2)
#define DST_K dst_kernels_avx2
#elif defined(DST_KERNELS_NEON)
#define DST_K dst_kernels_neon
#else
#define DST_K dst_kernels_scalar
#endif

#if defined(__GNUC__)
#define DST_ALIGN64 __attribute__((aligned(64)))
#else
#define DST_ALIGN64
#endif

static float A[ARENA_FLOATS] DST_ALIGN64;
static int32_t scratch[SCRATCH_INTS];

/* The bit-packed pattern indices of consecutive groups, LSB first, read a byte at a time. */
typedef struct bit_reader {
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
 * group's kept positions from its start, or, in flat groups (not
 * contiguous), each kept position's own offset.
 */
static void expand_block(const layer *L, int pattern_block, int32_t *off) {
  /* locals: the int32_t stores below could alias the layer's fields, which the compiler would then reload per entry */
  const int n = L->n, m = L->m, bits = L->bits, groups = L->n_groups;
  const int32_t *start = L->off;
  const uint8_t *kept = L->kept;
  bit_reader r = bits_from(L->idx, (size_t)pattern_block * groups * bits);
  if (L->flat) {
    for (int g = 0; g < groups; g++, off += n) {
      const uint8_t *pos = kept + next_index(&r, bits) * n;
      for (int k = 0; k < n; k++) off[k] = start[g * m + pos[k]];
    }
  } else {
    for (int g = 0; g < groups; g++, off += n) {
      const uint8_t *pos = kept + next_index(&r, bits) * n;
      for (int k = 0; k < n; k++) off[k] = start[g] + pos[k];
    }
  }
}

/* Gather indices of the 8 lanes of block b, each from its own channel's pattern; lanes past O read position 0 (weight 0). */
static void expand_lanes(const layer *L, int b, int32_t *idx) {
  const int n = L->n, bits = L->bits, groups = L->n_groups;
  const uint8_t *kept = L->kept;
  for (int l = 0; l < 8; l++) {
    const int o = b * 8 + l;
    if (o >= L->o) {
      for (int e = 0; e < groups * n; e++) idx[e * 8 + l] = 0;
      continue;
    }
    bit_reader r = bits_from(L->idx, (size_t)(o / L->block) * groups * bits);
    for (int g = 0; g < groups; g++) {
      const uint8_t *pos = kept + next_index(&r, bits) * n;
      for (int k = 0; k < n; k++) idx[(g * n + k) * 8 + l] = pos[k];
    }
  }
}

/* Output pixels [p0, p1) of one output block: x is the (padded) input, or an im2col row per pixel from p0; res (or NULL) is added as out is laid out. */
static void conv_block(const layer *L, int b, const float *x, ptrdiff_t x_row, ptrdiff_t x_col, int p0, int p1, float *out, const float *res) {
  dst_conv_task t = {
    .x = x, .x_row = x_row, .x_col = x_col, .ow = L->ow, .p0 = p0, .p1 = p1,
    .y = out + (ptrdiff_t)b * L->ob, .y_pix = L->o, .y_row = L->y_row,
    .lanes = L->o - b * L->ob < L->ob ? L->o - b * L->ob : L->ob,
    .relu = L->relu, .bias = L->bias + (size_t)b * L->ob,
    .w = L->weights + (size_t)b * L->w_stride, .off = L->off, .n_off = L->n_off, .cin = L->cin,
    .m = L->m, .idx = NULL, .res = res ? res + (ptrdiff_t)b * L->ob : NULL,
  };
  switch (L->path) {
    case PATH_DENSE16:
      DST_K.dense16(&t);
      break;
    case PATH_SPARSE16:
    case PATH_SPARSE8:
      expand_block(L, b * L->ob / L->block, scratch);
      t.off = scratch;
      (L->path == PATH_SPARSE16 ? DST_K.sparse16 : DST_K.sparse8)(&t);
      break;
    default:
      expand_lanes(L, b, scratch);
      t.idx = scratch;
      ((DST_K.gather_m_mask >> L->m) & 1 ? DST_K.gather8 : dst_kernels_scalar.gather8)(&t);
  }
}

/* The conv's input as its kernels read it: the zero-bordered copy when it pads beyond the input's own border. */
static const float *conv_input(const layer *L, const float *in, float *padbuf) {
  if (!padbuf) return in;
  dst_pad(in, L->h, L->w, L->c, L->ph, L->pw, padbuf);
  return padbuf;
}

/*
 * Output rows [r0, r1) into y (row r0 first), plus res laid out as y when a
 * residual add runs in the stores; x from conv_input. Every pixel sums in the
 * same order whatever the rows.
 */
static void conv_rows(const layer *L, const float *x, int r0, int r1, float *y, const float *res, float *colbuf) {
  const ptrdiff_t x_row = (ptrdiff_t)L->sh * L->wp * L->c, x_col = (ptrdiff_t)L->sw * L->c;
  const int npix = (r1 - r0) * L->ow;
  x += (ptrdiff_t)r0 * x_row;
  if (L->path >= PATH_CSR) {
    const dst_conv_geo geo = {x, x_row, x_col, L->ow, y, L->o, L->y_row, L->relu, L->bias, res};
    if (L->path == PATH_CSR) dst_conv_csr(&geo, 0, npix, 0, L->o, L->rowptr, L->off, L->weights);
    else if (L->path == PATH_DEPTHWISE) dst_conv_depthwise(&geo, 0, npix, L->o, L->kh * L->kw, L->off, L->weights);
    else dst_conv_grouped(&geo, 0, npix, L->o, L->o / L->groups, L->cg, L->kh * L->kw, L->off, L->weights);
    return;
  }
  if (!colbuf) {
    for (int b = 0; b < L->nblocks; b++) conv_block(L, b, x, x_row, x_col, 0, npix, y, res);
    return;
  }
  /* Flat groups: expand up to col_rows output rows at a time. */
  for (int r = r0; r < r1; r += L->col_rows) {
    const int rows = r1 - r < L->col_rows ? r1 - r : L->col_rows;
    dst_im2col(x + (ptrdiff_t)(r - r0) * x_row, L->wp, L->c, L->kh, L->kw, L->sh, L->sw, L->dh, L->dw, rows, L->ow, L->kpad, colbuf);
    const ptrdiff_t at = (ptrdiff_t)(r - r0) * L->y_row;
    for (int b = 0; b < L->nblocks; b++) conv_block(L, b, colbuf, (ptrdiff_t)L->ow * L->kpad, L->kpad, 0, rows * L->ow, y + at, res ? res + at : NULL);
  }
}
`;

/* Only in a graph with a banded conv: -Werror=unused-function. */
const CONV_POOL = `/* An unpadded pooling of a conv's output, done band by band; band_rows pooled rows per band. */
typedef struct pooling {
  int is_max, kh, kw, sh, sw, oh, ow, band_rows;
} pooling;

/*
 * A conv and the pooling of its output alone, as the engine's conv_pool:
 * band holds only the conv rows one band of pooled rows reads, so the
 * whole conv output never exists. Rows two bands share (kernel taller than
 * stride) move to the front of band instead of being computed twice.
 */
static void conv_pool(const layer *L, const pooling *P, const float *in, float *band, float *out, float *padbuf, float *colbuf) {
  const float *x = conv_input(L, in, padbuf);
  const size_t row = (size_t)L->ow * L->o;
  int first = 0, done = 0; /* band holds conv rows [first, done) */
  for (int p0 = 0; p0 < P->oh; p0 += P->band_rows) {
    const int p1 = P->oh - p0 < P->band_rows ? P->oh : p0 + P->band_rows;
    const int r0 = p0 * P->sh, r1 = (p1 - 1) * P->sh + P->kh;
    if (done > r0) memmove(band, band + (size_t)(r0 - first) * row, (size_t)(done - r0) * row * sizeof(float));
    else done = r0;
    first = r0;
    conv_rows(L, x, done, r1, band + (size_t)(done - r0) * row, NULL, colbuf);
    done = r1;
    float *y = out + (size_t)p0 * P->ow * L->o;
    if (P->is_max && DST_K.maxpool) DST_K.maxpool(band, L->ow, L->o, P->kh, P->kw, P->sh, P->sw, p1 - p0, P->ow, y);
    else dst_pool2d(band, r1 - r0, L->ow, L->o, P->kh, P->kw, P->sh, P->sw, 0, 0, p1 - p0, P->ow, P->is_max, y);
  }
}
`;

const at = (p: Placement): string => `A + ${p.offset}`;
/** Floats from a stored value's start to its pixel (0, 0). */
const originShift = (s: readonly number[], b: Border): number => (s.length === 3 ? (b[0] * (s[2]! + 2 * b[1]) + b[1]) * s[0]! : 0);
const origin = (p: Placement, s: readonly number[], b: Border): string => `A + ${p.offset + originShift(s, b)}`;
/** Zeroes the border a node's written value keeps, before the node writes it (the arena is shared); nothing when it keeps none. */
function zeroBorder(p: Placement, s: readonly number[], b: Border): string {
  return b[0] > 0 || b[1] > 0 ? `dst_zero_border(A + ${p.offset}, ${s[1]}, ${s[2]}, ${s[0]}, ${b[0]}, ${b[1]});\n  ` : '';
}

function nodeCall(np: NodePlan, layerId: Map<NodePlan, number>): string {
  const node = np.node;
  const x = at(np.ins[0]);
  const y = at(np.out);
  // a conv reads its input in place (at its first window) unless it pads a copy of it
  const convIn = np.conv && !np.conv.copyPad ? `A + ${np.ins[0].offset + np.conv.inShift}` : x;
  const s = np.inShapes[0];
  const [c, h, w] = s.length === 3 ? s : [s[0], 1, 1];
  const n = c * h * w;
  const pad = np.pad ? at(np.pad) : 'NULL';
  const col = np.col ? at(np.col) : 'NULL';
  if (np.band) {
    const { pool, poolShape, poolOut, pooledRows } = np.band;
    const geo = [pool.op === 'maxpool' ? 1 : 0, ...pool.kernel, ...pool.stride, poolShape[1], poolShape[2], pooledRows];
    return `conv_pool(&L${layerId.get(np)}, &(const pooling){${geo.join(', ')}}, ${convIn}, ${y}, ${at(poolOut)}, ${pad}, ${col});`;
  }
  switch (node.op) {
    case 'conv':
    case 'linear': {
      const L = `L${layerId.get(np)}`;
      // the residual is laid out as the output: the same border
      const res = np.res ? origin(np.res, np.outShape, np.outBorder) : 'NULL';
      return `${zeroBorder(np.out, np.outShape, np.outBorder)}conv_rows(&${L}, conv_input(&${L}, ${convIn}, ${pad}), 0, ${L}.oh, ${origin(np.out, np.outShape, np.outBorder)}, ${res}, ${col});`;
    }
    case 'relu':
      return `dst_relu(${x}, ${n}, ${y});`;
    case 'add':
      return `dst_add(${x}, ${at(np.ins[1])}, ${n}, ${node.relu ? 1 : 0}, ${y});`;
    case 'maxpool':
    case 'avgpool': {
      const [, oh, ow] = np.outShape;
      const args = [x, h, w, c, ...node.kernel, ...node.stride, ...node.padding, oh, ow, node.op === 'maxpool' ? 1 : 0, y];
      return `dst_pool2d(${args.join(', ')});`;
    }
    case 'globalavgpool':
      return `dst_global_avgpool(${origin(np.ins[0], s, np.inBorder)}, ${h}, ${w}, ${(w + 2 * np.inBorder[1]) * c}, ${c}, ${y});`;
    case 'flatten':
      return `dst_hwc_to_chw(${x}, ${h}, ${w}, ${c}, ${y});`;
    case 'softmax':
      return `dst_softmax(${x}, ${n}, ${y});`;
  }
}

/* The input's rows are rowFloats apart: it may keep a zero border. */
function preprocessFunctions(graph: Graph, rowFloats: number): string {
  const [c, h, w] = graph.inputShape;
  const pre = graph.preprocess;
  const [h0, w0] = pre.cropFrom ?? [h, w];
  for (const [key, v] of [['mean', pre.mean], ['std', pre.std]] as const) {
    if (v && (v.length !== c || !v.every((x) => Number.isFinite(x) && (key === 'mean' || x !== 0)))) {
      throw new ShapeError(`preprocess.${key}: needs ${c} finite values${key === 'std' ? ', none zero' : ''}`);
    }
  }
  if (h0 < h || w0 < w) throw new ShapeError(`preprocess.cropFrom [${h0}, ${w0}] is smaller than the input [${h}, ${w}]`);
  const top = Math.floor((h0 - h) / 2), left = Math.floor((w0 - w) / 2);
  const mean = Array.from({ length: c }, (_, i) => floatLiteral(Math.fround(pre.mean?.[i] ?? 0), 'preprocess.mean'));
  const std = Array.from({ length: c }, (_, i) => floatLiteral(Math.fround(pre.std?.[i] ?? 1), 'preprocess.std'));
  const body = (pixel: string): string => `  for (int ch = 0; ch < ${c}; ch++) {
    const float mean = pre_mean[ch], inv = 1.0f / pre_std[ch];
    for (int i = 0; i < ${h}; i++)
      for (int j = 0; j < ${w}; j++)
        x[i * ${rowFloats} + j * ${c} + ch] = (${pixel} - mean) * inv;
  }`;
  const src = `in[(ch * ${h0} + ${top} + i) * ${w0} + ${left} + j]`;
  return `static const float pre_mean[${c}] = {${mean.join(', ')}};
static const float pre_std[${c}] = {${std.join(', ')}};

/* Centre crop of a [C, H0, W0] image, (x - mean) / std, into the NHWC input at its pixel (0, 0). */
static void preprocess_f32(const float *in, float *x) {
${body(src)}
}

static void preprocess_u8(const uint8_t *in, float *x) {
${body(`(float)${src} / 255.0f`)}
}
`;
}

export function emitModel(graph: Graph, plan: GraphPlan, target: string): ModelSources {
  const wf = new WeightFile();
  const kept = new Map<string, string>();
  const layerId = new Map<NodePlan, number>();
  const layers: string[] = [];
  let scratch = 1;
  for (const np of plan.nodes) {
    if (!np.conv) continue;
    const id = layerId.size;
    layerId.set(np, id);
    const packed = packLayer(np.conv);
    scratch = Math.max(scratch, scratchInts(np.conv, packed));
    layers.push(layerDefinition(id, np.conv, np.relu, packed, wf, kept));
  }
  const [c, h, w] = graph.inputShape;
  const [h0, w0] = graph.preprocess.cropFrom ?? [h, w];
  const os = plan.outputShape;
  const [oc, oh, ow] = os.length === 3 ? os : [os[0], 1, 1];
  const outSize = oc * oh * ow;
  const arenaBytes = plan.arenaFloats * 4;
  const header = `/* ${MARKER} (target ${target}): do not edit, re-export instead. */`;

  const modelH = `${header}
#ifndef DST_GENERATED_MODEL_H
#define DST_GENERATED_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What dst_model_run reads: one [C, H, W] image, CHW, before the centre crop. */
#define DST_MODEL_INPUT_C ${c}
#define DST_MODEL_INPUT_H ${h0}
#define DST_MODEL_INPUT_W ${w0}
#define DST_MODEL_INPUT_SIZE ${c * h0 * w0}
/* The network's own input size after the crop. */
#define DST_MODEL_NET_H ${h}
#define DST_MODEL_NET_W ${w}

/* What it writes: [C, H, W] (CHW) or [F] (rank 1, C = F). */
#define DST_MODEL_OUTPUT_RANK ${os.length}
#define DST_MODEL_OUTPUT_C ${oc}
#define DST_MODEL_OUTPUT_H ${oh}
#define DST_MODEL_OUTPUT_W ${ow}
#define DST_MODEL_OUTPUT_SIZE ${outSize}

/* Static RAM the model uses: the activation arena and the pattern-index scratch. */
#define DST_MODEL_ARENA_BYTES ${arenaBytes}
#define DST_MODEL_SCRATCH_BYTES ${scratch * 4}

/*
 * Crops and normalises a float image as the training run did, runs the
 * network and writes DST_MODEL_OUTPUT_SIZE scores. Uses one static arena:
 * not re-entrant, so call it from one thread at a time.
 */
void dst_model_run(const float *input, float *scores);

/* The same from 8-bit pixels, each divided by 255 before the mean/std step. */
void dst_model_run_u8(const uint8_t *input, float *scores);

#ifdef __cplusplus
}
#endif
#endif
`;

  const forward = plan.nodes
    .map((np, i) => (np.inConv ? `  /* ${np.node.name}: in ${plan.nodes[i - 1].node.name} */` : `  /* ${np.node.name} */\n  ${nodeCall(np, layerId)}`))
    .join('\n');
  const finish = os.length === 3
    ? `  dst_hwc_to_chw(${at(plan.output)}, ${oh}, ${ow}, ${oc}, scores);`
    : `  memcpy(scores, ${at(plan.output)}, ${outSize} * sizeof(float));`;
  const modelC = `${header}
#include "model.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "weights.h"

#define ARENA_FLOATS ${plan.arenaFloats}
#define SCRATCH_INTS ${scratch}

${RUNTIME}
${plan.nodes.some((np) => np.band) ? CONV_POOL : ''}${layers.join('\n')}
${preprocessFunctions(graph, (w + 2 * plan.inputBorder[1]) * c)}
static void forward(float *scores) {
${forward}
${finish}
}

void dst_model_run(const float *input, float *scores) {
  ${zeroBorder(plan.input, graph.inputShape, plan.inputBorder)}preprocess_f32(input, ${origin(plan.input, graph.inputShape, plan.inputBorder)});
  forward(scores);
}

void dst_model_run_u8(const uint8_t *input, float *scores) {
  ${zeroBorder(plan.input, graph.inputShape, plan.inputBorder)}preprocess_u8(input, ${origin(plan.input, graph.inputShape, plan.inputBorder)});
  forward(scores);
}
`;
  const weightsH = `${header}
#ifndef DST_GENERATED_WEIGHTS_H
#define DST_GENERATED_WEIGHTS_H

#include <stdint.h>

${wf.decls.join('')}
#endif
`;
  const weightsC = `${header}
/* Const, so they stay in flash: kernel-ordered kept values, bit-packed pattern indices, offsets and biases. */
#include "weights.h"

${wf.defs.join('\n')}`;
  return {
    files: new Map([['model.h', modelH], ['model.c', modelC], ['weights.h', weightsH], ['weights.c', weightsC]]),
    weightBytes: wf.bytes,
    arenaBytes,
    scratchBytes: scratch * 4,
  };
}
