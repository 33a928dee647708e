/**
 * The integer arithmetic of int8 models (docs/uhp-format.md, version 2):
 * every engine, ISA and the TypeScript reference compute these exactly, so
 * their results agree bit for bit.
 */
import { DstError } from '../errors.js';

export const MULT_MIN = 2 ** 30;
export const MULT_MAX = 2 ** 31 - 1;
/** A multiplier below 1 (shift >= 31) keeps every requantized sum within int32, so engines clamp 32-bit values. */
export const SHIFT_MIN = 31;
export const SHIFT_MAX = 62;

/** [f, e] with x = f * 2^e and f in [0.5, 1), for finite x > 0 (C's frexp), read off the IEEE bits so that it is exact. */
export function frexp(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >> 4) & 0x7ff;
  if (biased === 0) {
    const [f, e] = frexp(x * 2 ** 64);
    return [f, e - 64];
  }
  view.setUint16(0, (view.getUint16(0) & 0x800f) | (1022 << 4));
  return [view.getFloat64(0), biased - 1022];
}

/**
 * The fixed-point form of a positive real rescale factor: R(x, mult, shift)
 * = x * real, rounded. `layer` names the layer in the refusal when the
 * factor does not fit the engine's shift range.
 */
export function quantizeMultiplier(real: number, layer: string): { mult: number; shift: number } {
  if (!(real > 0 && Number.isFinite(real))) {
    throw new DstError('E_QUANT', `${layer}: requantization multiplier ${real} is not a finite positive number`);
  }
  let [f, e] = frexp(real);
  let mult = Math.round(f * 2 ** 31);
  if (mult === 2 ** 31) {
    mult = 2 ** 30;
    e += 1;
  }
  const shift = 31 - e;
  if (shift < SHIFT_MIN || shift > SHIFT_MAX) {
    throw new DstError('E_QUANT', `${layer}: requantization multiplier ${real.toExponential(4)} does not fit a 31-bit multiplier with a right shift of 31..62, i.e. it must lie in [2^-32, 1) (scales too far apart)`);
  }
  return { mult, shift };
}

/**
 * R(x, mult, shift) = (x * mult + 2^(shift-1)) >> shift in int64, arithmetic
 * shift: rounds half towards +inf. Exact below 2^53 in magnitude; larger
 * results only ever meet a clamp to int8, which they pass with their sign.
 */
export function requantize(x: number, mult: number, shift: number): number {
  const s = BigInt(shift);
  return Number((BigInt(x) * BigInt(mult) + (1n << (s - 1n))) >> s);
}

export const clamp8 = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);

/** C's roundf: half away from zero. */
export const roundHalfAway = (v: number): number => (v < 0 ? -Math.round(-v) : Math.round(v));

/** S / n rounded half away from zero, by truncating integer division (the pools' D). */
export function divRound(sum: number, n: number): number {
  const half = Math.floor(n / 2);
  const a = Math.abs(sum) + half;
  const q = (a - (a % n)) / n;
  return sum >= 0 ? q : -q;
}
