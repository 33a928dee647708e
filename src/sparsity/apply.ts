import { ShapeError } from '../errors.js';

function sameLength(what: string, a: { length: number }, b: { length: number }): void {
  if (a.length !== b.length) throw new ShapeError(`${what}: ${a.length} weights but ${b.length} mask entries`);
}

/** `weights · mask`, the weights a pruned layer actually uses. */
export function applyMask(weights: Float32Array, mask: Uint8Array, out = new Float32Array(weights.length)): Float32Array {
  sameLength('applyMask', weights, mask);
  sameLength('applyMask output', out, mask);
  for (let i = 0; i < weights.length; i++) out[i] = mask[i] ? weights[i]! : 0;
  return out;
}

/**
 * The SR-STE decay of Zhou et al. 2021, `lambda·(1 − mask)·w`: added to the
 * straight-through gradient, it pulls pruned weights towards zero so masks
 * stop flipping back and forth.
 */
export function srSteDecay(
  weights: Float32Array,
  mask: Uint8Array,
  lambda: number,
  out = new Float32Array(weights.length),
): Float32Array {
  sameLength('srSteDecay', weights, mask);
  sameLength('srSteDecay output', out, mask);
  for (let i = 0; i < weights.length; i++) out[i] = mask[i] ? 0 : lambda * weights[i]!;
  return out;
}
