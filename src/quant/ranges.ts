/**
 * Clipping ranges of activations from calibration statistics. A histogram
 * over [min, max] (both widened to 0) collects a value's samples; exact zeros
 * (ReLU's, padding's) are counted apart because int8 holds them without error.
 */
import { activationParams } from './params.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'mse'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];
/**
 * MSE agreed with the float model most often on MSTAR A-ConvNets, all 2425
 * test chips, 512 calibration images (docs/experiments/int8.md): UHP 2:4:16,
 * 16 predictions differ (minmax 22, percentile 34); dense, 6 (minmax 5).
 */
export const DEFAULT_CALIBRATION_METHOD: CalibrationMethod = 'mse';
/** Training images a CLI calibration runs over unless told otherwise. */
export const DEFAULT_CALIBRATION_IMAGES = 512;

export const HISTOGRAM_BINS = 2048;
/** Shrink factors the MSE search tries, as fractions of the full range. */
const MSE_STEPS = 200;

export class RangeHistogram {
  readonly counts = new Float64Array(HISTOGRAM_BINS);
  zeros = 0;
  readonly lo: number;
  readonly hi: number;

  constructor(min: number, max: number) {
    this.lo = Math.min(min, 0);
    this.hi = Math.max(max, 0);
  }

  get binWidth(): number {
    return (this.hi - this.lo) / HISTOGRAM_BINS;
  }

  add(values: Float32Array): void {
    const { lo, counts } = this;
    const width = this.binWidth;
    if (!(width > 0)) {
      this.zeros += values.length;
      return;
    }
    const last = HISTOGRAM_BINS - 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v === 0) {
        this.zeros++;
        continue;
      }
      const b = Math.floor((v - lo) / width);
      counts[b < 0 ? 0 : b > last ? last : b]++;
    }
  }

  total(): number {
    return this.counts.reduce((a, b) => a + b, this.zeros);
  }

  /** The value below which `fraction` of the samples lie, linear within a bin; the zeros sit at 0. */
  quantile(fraction: number): number {
    const want = fraction * this.total();
    const width = this.binWidth;
    const zeroBin = width > 0 ? Math.floor(-this.lo / width) : 0;
    let cum = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      const start = this.lo + b * width;
      if (b === zeroBin && this.zeros > 0) {
        // The zeros come before the bin's positive part, after its negative part: close enough to count them first.
        if (cum + this.zeros >= want) return 0;
        cum += this.zeros;
      }
      const n = this.counts[b]!;
      if (n > 0 && cum + n >= want) return start + width * ((want - cum) / n);
      cum += n;
    }
    return this.hi;
  }
}

/** [lo, hi] keeping the central `percentile`% of samples on each side: the clipped tails are the outliers. */
export function percentileRange(h: RangeHistogram, percentile: number): [number, number] {
  const tail = 1 - percentile / 100;
  return [Math.min(0, h.quantile(tail)), Math.max(0, h.quantile(1 - tail))];
}

/**
 * Quantization error of the samples on the int8 grid of [lo, hi]: exact per
 * bin centre where bins are narrower than a step, else a step's uniform
 * rounding error; samples beyond the grid pay their clipping distance.
 */
export function quantizationMse(h: RangeHistogram, lo: number, hi: number): number {
  const { scale: s, zeroPoint: z } = activationParams(lo, hi, 'range');
  const width = h.binWidth;
  const gridLo = (-128 - z) * s;
  const gridHi = (127 - z) * s;
  const coarse = width > s;
  let err = 0;
  for (let b = 0; b < HISTOGRAM_BINS; b++) {
    const n = h.counts[b]!;
    if (n === 0) continue;
    const c = h.lo + (b + 0.5) * width;
    let e: number;
    if (c < gridLo) e = (c - gridLo) ** 2;
    else if (c > gridHi) e = (c - gridHi) ** 2;
    else if (coarse) e = (s * s) / 12;
    else e = (c - (Math.round(c / s) * s)) ** 2;
    err += n * e;
  }
  return err / Math.max(1, h.total());
}

/** The range [alpha * min, alpha * max] with the least quantization MSE over alpha in (0, 1]. */
export function mseRange(h: RangeHistogram): [number, number] {
  let best: [number, number] = [h.lo, h.hi];
  let bestErr = Infinity;
  for (let k = MSE_STEPS; k >= 1; k--) {
    const alpha = k / MSE_STEPS;
    const err = quantizationMse(h, alpha * h.lo, alpha * h.hi);
    if (err < bestErr) {
      bestErr = err;
      best = [alpha * h.lo, alpha * h.hi];
    }
  }
  return best;
}
