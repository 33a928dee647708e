/**
 * model.h, model.c, weights.h and weights.c of a generated project: the
 * engine's plan (target-plan.ts) written as const tables, field by field as
 * the binding exported it. Nothing is planned or packed here.
 */
import type { CStruct, NativePlan } from '../../runtime/native.js';
import type { Graph } from '../ir.js';
import { arrayDeclaration, arrayDefinition, floatLiteral, type CArrayType } from './c-literals.js';

export const MARKER = 'dst C export';

export interface ModelSources {
  files: Map<string, string>;
  /** Bytes of const weight data (packed values, offsets, pattern indices, biases). */
  weightBytes: number;
  arenaBytes: number;
  scratchBytes: number;
}


class WeightFile {
  readonly defs: string[] = [];
  readonly decls: string[] = [];
  /** Tables with equal contents (the kept positions of one N:M) are written once. */
  private readonly byContent = new Map<string, string>();
  bytes = 0;

  add(type: CArrayType, name: string, values: ArrayLike<number>, comment: string): string {
    const key = values.length <= 256 ? `${type}:${Array.prototype.join.call(values, ',')}` : null;
    const known = key === null ? undefined : this.byContent.get(key);
    if (known) return known;
    if (key !== null) this.byContent.set(key, name);
    this.defs.push(`/* ${comment} */\n${arrayDefinition(type, name, values, comment)}`);
    this.decls.push(arrayDeclaration(type, name, values.length));
    this.bytes += Math.max(1, values.length) * (type === 'uint8_t' || type === 'int8_t' ? 1 : 4);
    return name;
  }
}

const ARRAY_TYPES: Record<string, { type: CArrayType; what: string }> = {
  w: { type: 'float', what: 'packed weights' },
  bias: { type: 'float', what: 'bias' },
  off: { type: 'int32_t', what: 'input offsets' },
  idx: { type: 'int32_t', what: 'kernel indices' },
  rowptr: { type: 'int32_t', what: 'CSR row starts' },
  pidx: { type: 'uint8_t', what: 'bit-packed pattern indices' },
  kept: { type: 'uint8_t', what: 'kept positions of each pattern index' },
  qw: { type: 'int8_t', what: 'int8 weight pairs' },
  qbias: { type: 'int32_t', what: 'int32 biases (input zero point folded in)' },
  qreq: { type: 'int32_t', what: 'requantization multipliers and shifts' },
};

/**
 * A struct's fields as designated initialisers, zeros left out (C zeroes
 * them), all-zero nested structs too (a microcontroller build may not have
 * them: plan.h's rows8 geometry); refs are pointer fields set to named tables.
 */
function initializer(s: CStruct, refs: Record<string, string> = {}): string {
  const parts = Object.entries(refs).map(([key, name]) => `.${key} = ${name}`);
  for (const [key, v] of Object.entries(s)) {
    if (key === 'arrays' || key in refs) continue;
    if (typeof v === 'number') {
      if (v !== 0) parts.push(`.${key} = ${v}`);
    } else if (Array.isArray(v)) parts.push(`.${key} = {${v.join(', ')}}`);
    else if (v && !ArrayBuffer.isView(v)) {
      const nested = initializer(v);
      if (nested !== '{}') parts.push(`.${key} = ${nested}`);
    }
  }
  return `{${parts.join(', ')}}`;
}

function stepInitializer(plan: NativePlan, i: number, name: string, wf: WeightFile): string {
  const step = plan.steps[i]!;
  const refs: Record<string, string> = {};
  for (const [key, values] of Object.entries(step.arrays)) {
    if (!values) continue;
    const t = ARRAY_TYPES[key]!;
    refs[key] = wf.add(t.type, `dst_${key}${i}`, values, `${name}: ${t.what}`);
  }
  return `  /* ${name} */ ${initializer(step, refs)}`;
}

function floats(values: Float32Array, what: string): string {
  return Array.from(values, (v) => floatLiteral(v, what)).join(', ');
}

export function emitModel(graph: Graph, plan: NativePlan, target: string): ModelSources {
  const head = plan.plan as Record<string, number | CStruct>;
  const n = head.n_nodes as number;
  const names = graph.nodes.map((node) => node.name);
  const wf = new WeightFile();
  const steps = plan.steps.map((_, i) => stepInitializer(plan, i, names[i] ?? `node ${i}`, wf));
  const nodes = plan.nodes.map((node, i) => `  /* ${names[i]} */ ${initializer(node)}`);
  const input = head.input as { c: number; h: number; w: number };
  const out = head.out_shape as { rank: number; c: number; h: number; w: number };
  const arenaFloats = head.arena_floats as number, scratchInts = Math.max(1, head.scratch_ints as number);
  const cropH = head.crop_h as number, cropW = head.crop_w as number;
  const outSize = out.c * out.h * out.w;
  const header = `/* ${MARKER} (target ${target}): do not edit, re-export instead. */`;
  const pre = [
    plan.mean ? `static const float pre_mean[${input.c}] = {${floats(plan.mean, 'preprocess.mean')}};\n` : '',
    plan.std ? `static const float pre_std[${input.c}] = {${floats(plan.std, 'preprocess.std')}};\n` : '',
  ].join('');
  const planRefs: Record<string, string> = { nodes: 'nodes', steps: 'steps', val_at: 'val_at', border: 'border', ops: '&ops' };
  // only the ops the model uses, so the linker keeps only those (run.h)
  const ops = `static const struct dst_ops ops = {${plan.opsUsed.map((op) => `.${op} = dst_${op}`).join(', ')}};\n`;
  const scalarKernels = `/* The scalar kernels the plan uses, and no other (kernels.h). */\nstatic const dst_kernels scalar_kernels = {${plan.kernelsUsed
    .flatMap((k) => [`.${k} = dst_scalar_${k}`, ...(k === 'gather8' ? ['.gather8_any = dst_scalar_gather8'] : k === 'rows8' ? ['.rows_prep = dst_rows_prep'] : [])])
    .concat('.gather_m_mask = 0x1fffc')
    .join(', ')}};\n`;
  if (plan.mean) planRefs.mean = 'pre_mean';
  if (plan.std) planRefs.std = 'pre_std';
  const int8 = head.int8 === 1;
  const elementBytes = int8 ? 1 : 4;
  const q8Tables = int8
    ? `static const dst_qnode qnodes[${n}] = {\n${plan.qnodes!.map((q, i) => `  /* ${names[i]} */ ${initializer(q)}`).join(',\n')}\n};\n` +
      `/* Per input channel, the int8 code of each 8-bit pixel value: the integer-only input path. */\n` +
      `static const int8_t qlut[${plan.qlut!.length}] = {${Array.from(plan.qlut!).join(', ')}};\n`
    : '';
  if (int8) Object.assign(planRefs, { qnodes: 'qnodes', qlut: 'qlut' });
  if (int8) delete planRefs.ops;
  const outQ = int8 ? plan.qnodes![(head.output as number) - 1]! : null;

  const floatKernels = `#if defined(DST_KERNELS_AVX2)
#define DST_K dst_kernels_avx2
#elif defined(DST_KERNELS_NEON)
#define DST_K dst_kernels_neon
#else
${scalarKernels}#define DST_K scalar_kernels
#endif`;
  const q8Kernels = `#if defined(DST_KERNELS_AVX2)
#define DST_Q8 dst_q8_avx2
#elif defined(DST_KERNELS_NEON)
#define DST_Q8 dst_q8_neon
#else
static const dst_q8_kernels scalar_q8 = {dst_q8_scalar_conv16, NULL};
#define DST_Q8 scalar_q8
#endif`;
  const runFloat = `
int dst_model_run(const float *input, float *scores) { return dst_run(&plan, &DST_K, arena, scratch, NULL, input, NULL, scores); }

void dst_model_run_u8(const uint8_t *input, float *scores) { (void)dst_run(&plan, &DST_K, arena, scratch, NULL, NULL, input, scores); }
`;
  const runQ8 = `
int dst_model_run(const float *input, float *scores) { return dst_run_q8(&plan, &DST_Q8, arena, scratch, NULL, input, NULL, scores, NULL); }

void dst_model_run_u8(const uint8_t *input, float *scores) { (void)dst_run_q8(&plan, &DST_Q8, arena, scratch, NULL, NULL, input, scores, NULL); }

void dst_model_run_q8(const uint8_t *input, int8_t *scores) { (void)dst_run_q8(&plan, &DST_Q8, arena, scratch, NULL, NULL, input, NULL, scores); }
`;
  const modelH = `${header}
#ifndef DST_GENERATED_MODEL_H
#define DST_GENERATED_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What dst_model_run reads: one [C, H, W] image, CHW, before the centre crop. */
#define DST_MODEL_INPUT_C ${input.c}
#define DST_MODEL_INPUT_H ${cropH}
#define DST_MODEL_INPUT_W ${cropW}
#define DST_MODEL_INPUT_SIZE ${input.c * cropH * cropW}
/* The network's own input size after the crop. */
#define DST_MODEL_NET_H ${input.h}
#define DST_MODEL_NET_W ${input.w}

/* What it writes: [C, H, W] (CHW) or [F] (rank 1, C = F). */
#define DST_MODEL_OUTPUT_RANK ${out.rank}
#define DST_MODEL_OUTPUT_C ${out.c}
#define DST_MODEL_OUTPUT_H ${out.h}
#define DST_MODEL_OUTPUT_W ${out.w}
#define DST_MODEL_OUTPUT_SIZE ${outSize}

/* Static RAM the model uses: the activation arena and the pattern-index scratch. */
#define DST_MODEL_ARENA_BYTES ${arenaFloats * elementBytes}
#define DST_MODEL_SCRATCH_BYTES ${scratchInts * 4}

/*
 * Crops and normalises a float image as the training run did, runs the
 * network and writes DST_MODEL_OUTPUT_SIZE scores; returns 0, or -1 (scores
 * untouched) when the image holds a NaN or an infinity. Uses one static
 * arena: not re-entrant, so call it from one thread at a time.
 */
int dst_model_run(const float *input, float *scores);

/* The same from 8-bit pixels, each divided by 255 before the mean/std step. */
void dst_model_run_u8(const uint8_t *input, float *scores);
${
    int8
      ? `
/*
 * int8 model: integer-only from 8-bit pixels to int8 scores, whose real
 * value is (code - DST_MODEL_OUTPUT_ZERO_POINT) * DST_MODEL_OUTPUT_SCALE
 * (dst_model_run and dst_model_run_u8 return them so, as floats).
 */
#define DST_MODEL_INT8 1
#define DST_MODEL_OUTPUT_SCALE ${floatLiteral(outQ!.qs as number, 'output scale')}
#define DST_MODEL_OUTPUT_ZERO_POINT ${outQ!.qz}
void dst_model_run_q8(const uint8_t *input, int8_t *scores);
`
      : ''
  }
#ifdef __cplusplus
}
#endif
#endif
`;

  const modelC = `${header}
/* The engine's plan for this target as const tables; run.c runs it. */
#include "model.h"

#include <stddef.h>
#include <stdint.h>

#include "run.h"
#include "weights.h"

${int8 ? q8Kernels : floatKernels}

#if defined(__GNUC__)
#define DST_ALIGN64 __attribute__((aligned(64)))
#else
#define DST_ALIGN64
#endif

static const dst_node nodes[${n}] = {
${nodes.join(',\n')}
};

static const dst_step steps[${n}] = {
${steps.join(',\n')}
};

/* Where each value's storage starts in the arena (floats; -1: never stored), and the zero border it keeps. */
static const ptrdiff_t val_at[${n + 1}] = {${plan.valAt.join(', ')}};
static const dst_border border[${n + 1}] = {${plan.border.map(([h, w]) => `{${h}, ${w}}`).join(', ')}};
${pre}${int8 ? q8Tables : ops}
static const dst_plan plan = ${initializer(head as CStruct, planRefs)};

static ${int8 ? 'int8_t' : 'float'} arena[${arenaFloats}] DST_ALIGN64;
static int32_t scratch[${scratchInts}];
${int8 ? runQ8 : runFloat}`;
  const weightsH = `${header}
#ifndef DST_GENERATED_WEIGHTS_H
#define DST_GENERATED_WEIGHTS_H

#include <stdint.h>

${wf.decls.join('')}
#endif
`;
  const weightsC = `${header}
/* Const, so they stay in flash: the engine's packed weights, offsets, pattern indices and biases. */
#include "weights.h"

${wf.defs.join('\n')}`;
  return {
    files: new Map([['model.h', modelH], ['model.c', modelC], ['weights.h', weightsH], ['weights.c', weightsC]]),
    weightBytes: wf.bytes,
    arenaBytes: arenaFloats * elementBytes,
    scratchBytes: scratchInts * 4,
  };
}
