/**
 * LibTorch's fake quantization: values rounded to an integer grid and back
 * to float in the forward pass; the backward pass lets the gradient through
 * unchanged where the value lies on the grid's span and zeroes it where it
 * was clipped (the straight-through estimator).
 */
import { torchAddon } from './native.js';
import { Tensor } from './tensor.js';

const native = torchAddon();

/** round(x / scale) + zeroPoint clamped to [quantMin, quantMax], then back: (q - zeroPoint) * scale. */
export function fakeQuantizePerTensor(x: Tensor, scale: number, zeroPoint: number, quantMin: number, quantMax: number): Tensor {
  return new Tensor(native.fakeQuantizePerTensor(x.handle, scale, zeroPoint, quantMin, quantMax));
}

/** The same with one scale and zero point (float32 and int32 tensors) per index of `axis`. */
export function fakeQuantizePerChannel(x: Tensor, scales: Tensor, zeroPoints: Tensor, axis: number, quantMin: number, quantMax: number): Tensor {
  return new Tensor(native.fakeQuantizePerChannel(x.handle, scales.handle, zeroPoints.handle, axis, quantMin, quantMax));
}
