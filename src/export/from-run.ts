/**
 * From a run's model file to the exported IR: load, trace, fold, attach the
 * sparsity pattern per layer and the test-time preprocessing, and check that
 * the graph reproduces the model before anything is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DstError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { weightLayers } from '../nn/inspect.js';
import { formatPattern, parsePattern, type Pattern } from '../sparsity/pattern.js';
import { tidy } from '../torch/scope.js';
import { noGrad, randn } from '../torch/tensor.js';
import { loadModelFile, type ModelFileInfo } from '../train/model-file.js';
import { RunDir } from '../train/run-dir.js';
import { lowerTrace } from './fold.js';
import type { Graph, Preprocess, SparsityPattern } from './ir.js';
import { runGraph } from './run-graph.js';
import { traceModel } from './trace.js';

export interface RunModel {
  model: Module;
  info: ModelFileInfo;
  file: string;
  /** Layers that carry a pruning mask in the model file. */
  masked: Set<string>;
  /** The pattern the run recorded in summary.json, if any. */
  recordedPattern: Pattern | null;
}

/**
 * Loads `runs/<name>/model.safetensors`; the caller disposes `model`. Masked
 * layers compute with weight·mask, so the trace sees exact zeros even where
 * straight-through training left pruned weights non-zero.
 */
export async function loadRunModel(runPath: string): Promise<RunModel> {
  const run = new RunDir(runPath);
  if (!existsSync(run.model)) throw new ConfigError('run', `${runPath} holds no model.safetensors (is it a finished run directory?)`);
  const { model, info } = await loadModelFile(run.model);
  const masked = new Set(weightLayers(model).filter((l) => l.module.weightMask !== null).map((l) => l.name));
  return { model, info, file: run.model, masked, recordedPattern: summaryPattern(run.summary) };
}

function summaryPattern(file: string): Pattern | null {
  if (!existsSync(file)) return null;
  const summary = JSON.parse(readFileSync(file, 'utf8')) as { pattern?: unknown };
  return typeof summary.pattern === 'string' ? parsePattern(summary.pattern, `${path.basename(file)} pattern`) : null;
}

export function irPattern(pattern: Pattern): SparsityPattern {
  switch (pattern.kind) {
    case 'dense':
      return { kind: 'dense' };
    case 'uhp':
      return { kind: 'uhp', n: pattern.n, m: pattern.m, block: pattern.block };
    case 'unstructured':
    case 'channel':
      return { kind: 'unstructured' };
  }
}

/**
 * The pattern of every pruned layer: the masked layers when the file has
 * masks, else every conv and linear layer. Depthwise convs that stand for an
 * unfolded BatchNorm are no model layer and stay dense.
 */
export function layerPatterns(model: Module, masked: ReadonlySet<string>, pattern: Pattern): Map<string, SparsityPattern> {
  const out = new Map<string, SparsityPattern>();
  if (pattern.kind === 'dense') return out;
  for (const layer of weightLayers(model)) {
    if (masked.size === 0 || masked.has(layer.name)) out.set(layer.name, irPattern(pattern));
  }
  return out;
}

export function withPatterns(graph: Graph, patterns: ReadonlyMap<string, SparsityPattern>): Graph {
  return {
    ...graph,
    nodes: graph.nodes.map((node) => ((node.op === 'conv' || node.op === 'linear') && patterns.has(node.name) ? { ...node, pattern: patterns.get(node.name)! } : node)),
  };
}

/**
 * The test pipeline as .uhp preprocessing. Images are expected as `toFloat`
 * leaves them (8-bit pixels divided by 255); a centre crop is embedded for the
 * size images arrive at: `cropFrom` if given, else the dataset's image size
 * the model file records; without either, images must arrive cropped.
 */
export function preprocessOf(info: ModelFileInfo, cropFromFlag: [number, number] | null): Preprocess {
  const pre: Preprocess = { cropFrom: null, mean: null, std: null };
  const cropFrom = cropFromFlag ?? info.imageSize ?? null;
  for (const spec of info.transforms) {
    switch (spec.op) {
      case 'centerCrop':
        if (cropFrom !== null && (cropFrom[0] !== info.input[1] || cropFrom[1] !== info.input[2])) {
          const [h, w] = info.input.slice(1);
          if (cropFrom[0] < h! || cropFrom[1] < w!) throw new ConfigError('--crop-from', `${cropFrom.join('x')} is smaller than the ${h}x${w} network input`);
          pre.cropFrom = cropFrom;
        }
        break;
      case 'toFloat':
        break;
      case 'normalize':
        pre.mean = spec.mean ?? info.stats.mean;
        pre.std = spec.std ?? info.stats.std;
        break;
      default:
        throw new DstError('E_UNSUPPORTED', `test transform '${spec.op}' cannot be part of an exported model; export needs a pipeline of centerCrop, toFloat and normalize`);
    }
  }
  if (cropFromFlag !== null && !info.transforms.some((spec) => spec.op === 'centerCrop')) {
    const [h, w] = info.input.slice(1);
    throw new ConfigError('--crop-from', `the run's test pipeline has no centre crop, so images must arrive at the ${h}x${w} network input; drop --crop-from`);
  }
  return pre;
}

/** Traces and lowers a model; checks on a random image that the graph computes what the model does. */
export function modelGraph(model: Module, input: [number, number, number], preprocess?: Preprocess): Graph {
  const graph = lowerTrace(traceModel(model, input), preprocess);
  const { x, want } = noGrad(() =>
    tidy(() => {
      const t = randn([1, ...input]);
      const wasTraining = model.training;
      model.eval();
      try {
        return { x: t.data() as Float32Array, want: model.forward(t).data() as Float32Array };
      } finally {
        model.train(wasTraining);
      }
    }),
  );
  const got = runGraph(graph, x);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  if (!(diff <= 1e-4 * Math.max(scale, 1e-6))) {
    throw new DstError('E_UNSUPPORTED', `the traced graph does not reproduce the model (max error ${diff.toExponential(2)}): the model uses an operation the exporter does not trace`);
  }
  return graph;
}

export interface RunGraph {
  graph: Graph;
  info: ModelFileInfo;
  /** The pattern exported: the requested one, else the run's own, else dense. */
  pattern: Pattern;
  /** Layers the pattern applies to. */
  patternLayers: number;
}

/** A finished run as the graph every exporter writes: weights, per-layer pattern and test-time preprocessing. */
export async function graphOfRun(runPath: string, options: { pattern?: Pattern | null; cropFrom?: [number, number] | null } = {}): Promise<RunGraph> {
  const { model, info, masked, recordedPattern } = await loadRunModel(runPath);
  try {
    const pattern = options.pattern ?? recordedPattern ?? { kind: 'dense' as const };
    const patterns = layerPatterns(model, masked, pattern);
    const graph = withPatterns(modelGraph(model, info.input, preprocessOf(info, options.cropFrom ?? null)), patterns);
    return { graph, info, pattern, patternLayers: patterns.size };
  } finally {
    model.dispose();
  }
}

/** Describes a pattern choice for messages: 'uhp:2:4:16 on 21 layers'. */
export function describePatterns(pattern: Pattern, layers: number): string {
  return pattern.kind === 'dense' || layers === 0 ? 'dense' : `${formatPattern(pattern)} on ${layers} layer${layers === 1 ? '' : 's'}`;
}
