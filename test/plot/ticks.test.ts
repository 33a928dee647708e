import { describe, expect, it } from 'vitest';
import { decimalLabels, linearTicks, logTicks, niceStep, siLabels } from '../../src/plot/ticks.js';

describe('ticks', () => {
  it('chooses 1-2-5 steps', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(0.7)).toBeCloseTo(0.1, 12);
    expect(niceStep(300e6)).toBe(50e6);
    expect(niceStep(3.6)).toBe(0.5);
    expect(niceStep(4.8)).toBe(1);
  });

  it('covers the data with evenly spaced, exactly printed ticks', () => {
    expect(linearTicks(0.12, 0.93).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    for (const [lo, hi] of [
      [0, 1],
      [-3.2, 7.9],
      [0.0001, 0.0093],
      [91.2, 99.4],
      [2.3e6, 2.8e8],
      [-5, -4.99],
    ] as const) {
      const t = linearTicks(lo, hi);
      expect(t.min).toBeLessThanOrEqual(lo);
      expect(t.max).toBeGreaterThanOrEqual(hi);
      expect(t.values.length).toBeGreaterThanOrEqual(3);
      expect(t.values.length).toBeLessThanOrEqual(11);
      const steps = t.values.slice(1).map((v, i) => v - t.values[i]!);
      for (const s of steps) expect(s).toBeCloseTo(steps[0]!, 9);
    }
  });

  it('widens a zero-width range and keeps integer ticks whole', () => {
    expect(linearTicks(1, 1, { integer: true }).values).toEqual([0, 1, 2]);
    expect(linearTicks(1, 3, { integer: true }).values).toEqual([1, 2, 3]);
    const constant = linearTicks(0.5, 0.5);
    expect(constant.min).toBeLessThan(0.5);
    expect(constant.max).toBeGreaterThan(0.5);
    expect(linearTicks(0, 0).values).toContain(0);
    expect(linearTicks(NaN, NaN).values).toEqual([0, 1]);
    expect(linearTicks(3, 1).values[0]).toBe(1);
  });

  it('uses 1-2-5 ticks on a log axis over two decades, powers of ten beyond', () => {
    expect(logTicks(19e6, 275e6).values).toEqual([1e7, 2e7, 5e7, 1e8, 2e8, 5e8]);
    expect(logTicks(1500, 2e7).values).toEqual([1e3, 1e4, 1e5, 1e6, 1e7, 1e8]);
    expect(logTicks(0, 10).values).toEqual([1, 10]);
  });

  it('labels with as few decimals as the step needs', () => {
    expect(decimalLabels([0, 0.2, 0.4])).toEqual(['0.0', '0.2', '0.4']);
    expect(decimalLabels([0, 5, 10])).toEqual(['0', '5', '10']);
    expect(decimalLabels([0, 0.025, 0.05])).toEqual(['0.000', '0.025', '0.050']);
    expect(decimalLabels([0, 0.0002, 0.0004])).toEqual(['0', '2e-4', '4e-4']);
    expect(siLabels([1e7, 2e7, 5e8, 1500, 2.5e9, 40])).toEqual(['10M', '20M', '500M', '1.5k', '2.5G', '40']);
  });
});
