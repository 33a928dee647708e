/**
 * The int8 rounding of docs/uhp-format.md (version 2) as differentiable
 * float operations, for quantization-aware training: values are rounded to
 * the grid they will have in the int8 model, gradients pass straight through.
 */
import type { QuantParams } from '../export/ir.js';
import { fakeQuantizePerChannel, fakeQuantizePerTensor } from '../torch/fake-quant.js';
import { noGrad, where, zeros, type Tensor } from '../torch/tensor.js';

/** The largest weight code of symmetric int8 weights (quantizeWeights' range, -127..127). */
export const WEIGHT_CODE_MAX = 127;

/** An activation on its int8 grid: (clamp8(round(x / s) + z) - z) · s; zero gradient where clipped. */
export function fakeQuantActivation(x: Tensor, q: QuantParams): Tensor {
  return fakeQuantizePerTensor(x, q.scale, q.zeroPoint, -128, 127);
}

/**
 * Weights [O, ...] on quantizeWeights' grid: per output channel the scale
 * max|w[o]| / codeMax in float32 (1 for an all-zero channel), codes within
 * ±codeMax. Zeros stay exactly zero, so pruned weights remain pruned. The
 * scale follows the weights but carries no gradient.
 */
export function fakeQuantWeights(weight: Tensor, codeMax: number): Tensor {
  const out = weight.shape[0]!;
  const scales = noGrad(() => {
    const max = weight.detach().abs().reshape([out, -1]).maxAlong(1).values.div(codeMax);
    return where(max.gt(0), max, 1);
  });
  return fakeQuantizePerChannel(weight, scales, zeros([out], 'int32'), 0, -codeMax, codeMax);
}
