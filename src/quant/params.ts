/**
 * From float weights and activation ranges to the integers of an int8 layer
 * (docs/uhp-format.md, version 2). Scales are rounded to float32 before
 * anything is derived from them: the file stores float32, so a reader that
 * recomputes from the file gets the same integers.
 */
import { DstError } from '../errors.js';
import type { AddRequant, ConvNode, LinearNode, QuantLayer, QuantParams } from '../export/ir.js';
import { clamp8, quantizeMultiplier, roundHalfAway } from './fixed-point.js';

const INT32_MAX = 2 ** 31 - 1;

/** The largest weight code of symmetric int8 weights (-127..127: -128 would make the range asymmetric). */
export const WEIGHT_CODE_MAX = 127;

/** Activation scale and zero point for a calibrated [lo, hi], widened to hold 0 so that zero (padding, ReLU) is exact. */
export function activationParams(lo: number, hi: number, value: string): QuantParams {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) {
    throw new DstError('E_QUANT', `${value}: calibration range [${lo}, ${hi}] is not finite (the float model overflows or produces NaN)`);
  }
  const min = Math.min(lo, 0);
  const max = Math.max(hi, 0);
  // A range too narrow for a float32 scale holds only zeros as far as int8 can tell.
  const s = Math.fround((max - min) / 255);
  const scale = s > 0 && Number.isFinite(s) ? s : 1;
  return { scale, zeroPoint: clamp8(Math.round(-128 - min / scale)) };
}

/** Symmetric per-output-channel int8 weights; a zero weight stays zero, so the sparsity pattern holds. */
export function quantizeWeights(weight: Float32Array, outChannels: number): { weight: Int8Array; scales: Float32Array } {
  const per = weight.length / outChannels;
  const q = new Int8Array(weight.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let max = 0;
    for (let k = o * per; k < (o + 1) * per; k++) max = Math.max(max, Math.abs(weight[k]!));
    const s = Math.fround(max / WEIGHT_CODE_MAX);
    const sw = s > 0 ? s : 1;
    scales[o] = sw;
    for (let k = o * per; k < (o + 1) * per; k++) q[k] = Math.max(-WEIGHT_CODE_MAX, Math.min(WEIGHT_CODE_MAX, roundHalfAway(weight[k]! / sw)));
  }
  return { weight: q, scales };
}

/**
 * The integer layer: weights, int32 bias in units of s_in * sw[o], and the
 * per-channel requantization s_in * sw[o] / s_out. Refuses, naming the layer,
 * a bias beyond int32 and a layer whose int32 accumulator could overflow.
 */
export function quantizeLayer(node: ConvNode | LinearNode, input: QuantParams, output: QuantParams): QuantLayer {
  const outChannels = node.weightShape[0];
  const { weight, scales } = quantizeWeights(node.weight, outChannels);
  const per = weight.length / outChannels;
  const bias = new Int32Array(outChannels);
  const mult = new Int32Array(outChannels);
  const shift = new Int32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const unit = input.scale * scales[o]!;
    const b = roundHalfAway((node.bias?.[o] ?? 0) / unit);
    if (!(Math.abs(b) <= INT32_MAX)) {
      throw new DstError('E_QUANT', `${node.name}: bias of output channel ${o} is ${b} units of s_in * s_w, beyond int32 (input scale ${input.scale.toExponential(3)} too small for it)`);
    }
    bias[o] = b;
    let sumW = 0;
    for (let k = o * per; k < (o + 1) * per; k++) sumW += Math.abs(weight[k]!);
    // |x - z_in| <= 255: the worst-case accumulator must stay inside int32 on every engine.
    if (Math.abs(b) + 255 * sumW > INT32_MAX) {
      throw new DstError('E_QUANT', `${node.name}: output channel ${o} can overflow the int32 accumulator (bias ${b}, weight sum ${sumW})`);
    }
    const r = quantizeMultiplier((input.scale * scales[o]!) / output.scale, node.name);
    mult[o] = r.mult;
    shift[o] = r.shift;
  }
  return { weight, scales, bias, mult, shift };
}

/** The add's three rescalings: both inputs to a common 2^20-scaled grid of 2*max(s_a, s_b), then to the output scale. */
export function addRequant(a: QuantParams, b: QuantParams, output: QuantParams, layer: string): AddRequant {
  const twice = 2 * Math.max(a.scale, b.scale);
  const pair = (real: number): [number, number] => {
    const r = quantizeMultiplier(real, layer);
    return [r.mult, r.shift];
  };
  return [pair(a.scale / twice), pair(b.scale / twice), pair(twice / (2 ** 20 * output.scale))];
}
