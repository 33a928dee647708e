import { describe, expect, it } from 'vitest';
import { cubicSparsityAt, keepCountAt, maskUpdateDue } from '../../src/sparsity/index.js';

describe('keepCountAt', () => {
  const schedule = { n: 2, m: 4, startEpoch: 10, epochs: 4 };

  it('steps 4:4 -> 3:4 -> 2:4 evenly from the start epoch, reaching 2:4 halfway', () => {
    expect([0, 9, 9.99, 10, 11, 11.99, 12, 13, 13.99, 14, 15, 100].map((e) => keepCountAt(schedule, e))).toEqual([
      4, 4, 4, 3, 3, 3, 2, 2, 2, 2, 2, 2,
    ]);
  });

  it('is one-shot with zero epochs', () => {
    expect(keepCountAt({ ...schedule, epochs: 0 }, 9)).toBe(4);
    expect(keepCountAt({ ...schedule, epochs: 0 }, 10)).toBe(2);
  });

  it('walks every keep count down to N', () => {
    const wide = { n: 8, m: 16, startEpoch: 0, epochs: 8 };
    expect(Array.from({ length: 10 }, (_, e) => keepCountAt(wide, e))).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 8, 8]);
  });

  it('rejects an impossible schedule', () => {
    expect(() => keepCountAt({ n: 5, m: 4, startEpoch: 0, epochs: 1 }, 0)).toThrow(/^schedule: /);
  });
});

describe('cubicSparsityAt', () => {
  const schedule = { initialSparsity: 0, finalSparsity: 0.8, startStep: 100, pruningSteps: 10, interval: 50 };

  it('follows Zhu & Gupta at the boundaries and between', () => {
    expect(cubicSparsityAt(schedule, 0)).toBe(0);
    expect(cubicSparsityAt(schedule, 100)).toBe(0);
    expect(cubicSparsityAt(schedule, 149)).toBe(0);
    expect(cubicSparsityAt(schedule, 150)).toBeCloseTo(0.8 - 0.8 * 0.9 ** 3, 12);
    // t0 + 5Δt: halfway, s = s_f (1 - 1/8).
    expect(cubicSparsityAt(schedule, 350)).toBeCloseTo(0.7, 12);
    expect(cubicSparsityAt(schedule, 599)).toBeCloseTo(0.8 - 0.8 * 0.1 ** 3, 12);
    expect(cubicSparsityAt(schedule, 600)).toBe(0.8);
    expect(cubicSparsityAt(schedule, 10_000)).toBe(0.8);
  });

  it('starts from a non-zero initial sparsity', () => {
    expect(cubicSparsityAt({ ...schedule, initialSparsity: 0.2 }, 350)).toBeCloseTo(0.8 - 0.6 / 8, 12);
  });

  it('rejects a decreasing schedule', () => {
    expect(() => cubicSparsityAt({ ...schedule, initialSparsity: 0.9 }, 0)).toThrow(/^schedule: /);
  });
});

describe('maskUpdateDue', () => {
  it('re-chooses every k steps until the given step, then never', () => {
    const due = Array.from({ length: 12 }, (_, s) => maskUpdateDue({ every: 3, until: 10, from: 1 }, s));
    expect(due.flatMap((d, s) => (d ? [s] : []))).toEqual([1, 4, 7]);
    expect(maskUpdateDue({ every: 100, until: 1 }, 0)).toBe(true);
    expect(maskUpdateDue({ every: 100, until: 1 }, 1)).toBe(false);
    expect(() => maskUpdateDue({ every: 0, until: 5 }, 0)).toThrow(/^maskUpdate\.every: /);
  });
});
