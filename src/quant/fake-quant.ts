/**
 * The int8 rounding of docs/uhp-format.md (version 2) as differentiable
 * float operations, for quantization-aware training: values are rounded to
 * the grid they will have in the int8 model, gradients pass straight through.
 */
import type { QuantParams } from '../export/ir.js';
import { fakeQuantizePerChannel, fakeQuantizePerTensor } from '../torch/fake-quant.js';
import { noGrad, where, zeros, type Tensor } from '../torch/tensor.js';

const INT32_MAX = 2 ** 31 - 1;

/** An activation on its int8 grid: (clamp8(round(x / s) + z) - z) · s; zero gradient where clipped. */
export function fakeQuantActivation(x: Tensor, q: QuantParams): Tensor {
  return fakeQuantizePerTensor(x, q.scale, q.zeroPoint, -128, 127);
}

/** Per output channel of weights [O, ...]: max|w[o]| / codeMax in float32, 1 for an all-zero channel, as quantizeWeights chooses them; no gradient. */
export function weightScales(weight: Tensor, codeMax: number): Tensor {
  return noGrad(() => {
    const max = weight.detach().abs().reshape([weight.shape[0]!, -1]).maxAlong(1).values.div(codeMax);
    return where(max.gt(0), max, 1);
  });
}

/** Weights [O, ...] on quantizeWeights' grid: codes within ±codeMax times the channel's scale. Zeros stay exactly zero, so pruned weights remain pruned. */
export function fakeQuantWeights(weight: Tensor, scales: Tensor, codeMax: number): Tensor {
  return fakeQuantizePerChannel(weight, scales, zeros([weight.shape[0]!], 'int32'), 0, -codeMax, codeMax);
}

/** A layer's bias as its int32 codes hold it: rounded to units of s_in · sw[o] (`units`). */
export function fakeQuantBias(bias: Tensor, units: Tensor): Tensor {
  return fakeQuantizePerChannel(bias, units, zeros([bias.shape[0]!], 'int32'), 0, -INT32_MAX, INT32_MAX);
}
