import { createModel } from '../../src/models/index.js';
import { BatchNorm2d } from '../../src/nn/layers.js';
import type { Module } from '../../src/nn/module.js';
import { noGrad, rand, randn, tidy, type Tensor } from '../../src/torch/index.js';
import type { Shape3 } from '../../src/export/ir.js';

/** Small inputs keep the zoo tests fast; the A-ConvNets need their 88x88 chips. */
export const testInput: Record<string, Shape3> = {
  aconvnet: [1, 88, 88],
  aconvnet_x2: [1, 88, 88],
  sar_resnet18: [1, 32, 32],
};

export function inputOf(name: string): Shape3 {
  return testInput[name] ?? [3, 16, 16];
}

/** A zoo model in eval mode whose BatchNorms hold trained-looking statistics, so folding is really tested. */
export function modelWithStats(name: string, numClasses = 10): Module {
  const model = createModel(name, { numClasses, inChannels: inputOf(name)[0] });
  noGrad(() =>
    tidy(() => {
      for (const [, m] of model.namedModules()) {
        if (!(m instanceof BatchNorm2d)) continue;
        const c = m.numFeatures;
        const set = (target: Tensor, value: Tensor) => target.copy_(value);
        set(m.runningMean, randn([c]).mul(0.3));
        set(m.runningVar, rand([c]).add(0.5));
        set(m.weight, rand([c]).add(0.5));
        set(m.bias, randn([c]).mul(0.2));
      }
    }),
  );
  return model.eval();
}

export function relErr(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}
