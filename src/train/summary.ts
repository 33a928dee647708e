import type { Module } from '../nn/module.js';
import { outputPositions, weightLayers } from '../nn/inspect.js';
import { modelStats, type ModelStats } from '../sparsity/stats.js';
import type { Pattern } from '../sparsity/pattern.js';
import type { EvalResult } from './evaluate.js';

/** Parameter, non-zero and MAC statistics of the conv/linear layers, with masks where given. */
export function sparsityStats(model: Module, input: [number, number, number], masks: ReadonlyMap<string, Uint8Array> = new Map(), pattern?: Pattern): ModelStats {
  const positions = outputPositions(model, input);
  const layers = weightLayers(model).map((l) => ({
    name: l.name,
    kind: l.kind,
    shape: [...l.module.weight.shape],
    data: l.module.weight.data() as Float32Array,
  }));
  return modelStats(layers, masks, positions, pattern);
}

export interface RunSummary {
  name: string;
  model: string;
  data: { spec: string; kind: string; classes: string[]; trainSize: number; testSize: number };
  epochs: number;
  top1: number;
  top5: number;
  loss: number;
  perClassAccuracy: Record<string, number>;
  confusion: number[][];
  params: number;
  /** Parameters of every kind (BN included), as PyTorch counts them. */
  allParams: number;
  nonZeros: number;
  sparsity: number;
  denseMacs: number;
  effectiveMacs: number;
  uniform: boolean | null;
  layers: { name: string; shape: number[]; params: number; nonZeros: number; sparsity: number; denseMacs: number; effectiveMacs: number; uniform: boolean | null }[];
  seconds: number;
  [extra: string]: unknown;
}

export function buildSummary(args: {
  name: string;
  modelName: string;
  model: Module;
  input: [number, number, number];
  data: RunSummary['data'];
  epochs: number;
  final: EvalResult;
  seconds: number;
  masks?: ReadonlyMap<string, Uint8Array>;
  pattern?: Pattern;
}): RunSummary {
  const stats = sparsityStats(args.model, args.input, args.masks, args.pattern);
  return {
    name: args.name,
    model: args.modelName,
    data: args.data,
    epochs: args.epochs,
    top1: args.final.top1,
    top5: args.final.top5,
    loss: args.final.loss,
    perClassAccuracy: Object.fromEntries(args.data.classes.map((c, i) => [c, args.final.perClassAccuracy[i]!])),
    confusion: args.final.confusion,
    params: stats.params,
    allParams: args.model.parameterCount(),
    nonZeros: stats.nonZeros,
    sparsity: stats.sparsity,
    denseMacs: stats.denseMacs,
    effectiveMacs: stats.effectiveMacs,
    uniform: stats.uniform,
    layers: stats.layers.map(({ name, shape, params, nonZeros, sparsity, denseMacs, effectiveMacs, uniform }) => ({ name, shape, params, nonZeros, sparsity, denseMacs, effectiveMacs, uniform })),
    seconds: args.seconds,
  };
}
