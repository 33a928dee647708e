import { describe, expect, it } from 'vitest';
import { mseRange, percentileRange, quantizationMse, RangeHistogram } from '../../src/quant/ranges.js';
import { rng } from '../engine/graphs.js';

function histogramOf(values: Float32Array): RangeHistogram {
  const h = new RangeHistogram(Math.min(...values), Math.max(...values));
  h.add(values);
  return h;
}

/** Gaussian samples (Box-Muller) and two outliers: a conv output with a rare large activation. */
function heavyTailed(n: number): Float32Array {
  const rand = rng(5);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  out[0] = 12;
  out[1] = -12;
  return out;
}

describe('range histogram', () => {
  it('counts zeros apart and finds quantiles', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0 : (i - 499) / 100));
    const h = histogramOf(values);
    expect(h.zeros).toBe(500);
    expect(h.total()).toBe(1000);
    expect(h.quantile(0.25)).toBe(0);
    expect(h.quantile(0.75)).toBeCloseTo(2.5, 1);
    expect(h.quantile(1)).toBeCloseTo(5, 2);
  });
});

describe('range choosers', () => {
  const values = heavyTailed(100_000);
  const h = histogramOf(values);

  it('percentile clips the outliers and keeps the bulk', () => {
    const [lo, hi] = percentileRange(h, 99.99);
    expect(hi).toBeLessThan(6);
    expect(hi).toBeGreaterThan(3);
    expect(lo).toBeGreaterThan(-6);
    expect(lo).toBeLessThan(-3);
    expect(percentileRange(h, 100)).toEqual([h.lo, h.hi]);
  });

  it('post-ReLU values keep lo = 0', () => {
    const relu = histogramOf(values.map((v) => Math.max(0, v)));
    expect(percentileRange(relu, 99.9)[0]).toBe(0);
    expect(mseRange(relu)[0]).toBe(0);
  });

  it('mse picks a range whose error is below the full range and below both neighbours on its grid', () => {
    const [lo, hi] = mseRange(h);
    const err = quantizationMse(h, lo, hi);
    // Measured: [-9.72, 9.72], MSE 5.9e-4 against 7.4e-4 for the full range.
    expect(err).toBeLessThan(0.9 * quantizationMse(h, h.lo, h.hi));
    expect(hi).toBeLessThan(0.9 * h.hi);
    expect(lo).toBeGreaterThan(0.9 * h.lo);
    const alpha = hi / h.hi;
    expect(err).toBeLessThanOrEqual(quantizationMse(h, (alpha + 0.005) * h.lo, (alpha + 0.005) * h.hi));
    expect(err).toBeLessThanOrEqual(quantizationMse(h, (alpha - 0.005) * h.lo, (alpha - 0.005) * h.hi));
  });

  it('mse keeps the whole range of uniform values, where clipping only adds error', () => {
    const uniform = histogramOf(Float32Array.from({ length: 50_000 }, (_, i) => (i % 1000) / 100 - 3));
    const [lo, hi] = mseRange(uniform);
    expect(hi / uniform.hi).toBeGreaterThan(0.97);
    expect(lo / uniform.lo).toBeGreaterThan(0.97);
  });
});
