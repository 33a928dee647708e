import { noGrad, zeros } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';
import { Conv2d, Linear } from './layers.js';
import { traceOutputPositions } from './macs.js';
import type { Module } from './module.js';

export interface WeightLayer {
  /** Module path, e.g. 'layer1.0.conv1'; its weight key is `${name}.weight`. */
  name: string;
  module: Conv2d | Linear;
  kind: 'conv' | 'linear';
}

/** The conv and linear layers of a model in registration order: what pruning and export work on. */
export function weightLayers(model: Module): WeightLayer[] {
  const out: WeightLayer[] = [];
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Conv2d) out.push({ name, module: m, kind: 'conv' });
    else if (m instanceof Linear) out.push({ name, module: m, kind: 'linear' });
  }
  return out;
}

/** Output H·W per image of every weight layer for one input of [C, H, W] (1 for linear layers). */
export function outputPositions(model: Module, input: readonly [number, number, number]): Record<string, number> {
  const wasTraining = model.training;
  model.eval();
  try {
    const byWeight = traceOutputPositions(() => noGrad(() => tidy(() => void model.forward(zeros([1, ...input])))));
    const out: Record<string, number> = {};
    for (const layer of weightLayers(model)) {
      const positions = byWeight.get(layer.module.weight);
      if (positions !== undefined) out[layer.name] = positions;
    }
    return out;
  } finally {
    model.train(wasTraining);
  }
}
