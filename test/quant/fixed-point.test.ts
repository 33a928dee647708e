import { describe, expect, it } from 'vitest';
import { divRound, frexp, MULT_MAX, MULT_MIN, quantizeMultiplier, requantize, roundHalfAway } from '../../src/quant/fixed-point.js';

/** real * x from the fixed-point pair, exactly, to compare with R. */
const exact = (x: number, m: number, s: number) => (BigInt(x) * BigInt(m) + (1n << BigInt(s - 1))) >> BigInt(s);

describe('frexp', () => {
  it('splits powers of two, their neighbours and extremes into f in [0.5, 1)', () => {
    for (const x of [1, 0.5, 2 ** -40, 2 ** 40, 3, 0.75, 1 - 2 ** -53, 1 + 2 ** -52, Number.MIN_VALUE, Number.MAX_VALUE]) {
      const [f, e] = frexp(x);
      expect(f).toBeGreaterThanOrEqual(0.5);
      expect(f).toBeLessThan(1);
      expect(f * 2 * 2 ** (e - 1)).toBe(x);
    }
  });
});

describe('quantizeMultiplier', () => {
  it('keeps mult in [2^30, 2^31 - 1] and approximates the real to 2^-31 relative', () => {
    for (const real of [1e-9, 0.001, 0.0123, 0.25, 0.5, 0.999]) {
      const { mult, shift } = quantizeMultiplier(real, 'layer');
      expect(mult).toBeGreaterThanOrEqual(MULT_MIN);
      expect(mult).toBeLessThanOrEqual(MULT_MAX);
      expect(Math.abs(mult / 2 ** shift - real) / real).toBeLessThanOrEqual(2 ** -31);
    }
  });

  it('powers of two give mult 2^30', () => {
    expect(quantizeMultiplier(0.5, 'l')).toEqual({ mult: 2 ** 30, shift: 31 });
    expect(quantizeMultiplier(2 ** -20, 'l')).toEqual({ mult: 2 ** 30, shift: 50 });
  });

  it('a fraction that rounds up to 2^31 carries into the exponent', () => {
    // f = 0.5 - 2^-40 rounds to 2^31 at e = 0: the pair becomes 2^30 with one shift less.
    expect(quantizeMultiplier(0.5 - 2 ** -40, 'l')).toEqual({ mult: 2 ** 30, shift: 31 });
  });

  it('refuses, naming the layer, a multiplier of 1 or more (its sums could leave int32), below 2^-32, or not positive', () => {
    expect(() => quantizeMultiplier(2 ** 31, 'stage1.conv')).toThrow(/^stage1\.conv: requantization multiplier 2\.1475e\+9 does not fit .* \[2\^-32, 1\)/);
    for (const real of [1, 1.5, 7, 1 - 2 ** -40]) expect(() => quantizeMultiplier(real, 'l'), String(real)).toThrow(/^l: requantization multiplier .* does not fit/);
    expect(quantizeMultiplier(1 - 2 ** -20, 'l').shift).toBe(31);
    expect(() => quantizeMultiplier(2 ** -33, 'fc')).toThrow(/^fc: requantization multiplier/);
    expect(quantizeMultiplier(2 ** -32, 'l').shift).toBe(62);
    expect(() => quantizeMultiplier(0, 'fc')).toThrow(/^fc: .*not a finite positive/);
    expect(() => quantizeMultiplier(NaN, 'fc')).toThrow(/^fc: /);
  });
});

describe('R(x, mult, shift)', () => {
  it('rounds half up (towards +inf), also for negative x', () => {
    // mult/2^shift = 0.5: x = 1 -> 0.5 -> 1; x = -1 -> -0.5 -> 0; x = -3 -> -1.5 -> -1.
    expect(requantize(1, 2 ** 30, 31)).toBe(1);
    expect(requantize(-1, 2 ** 30, 31)).toBe(0);
    expect(requantize(-3, 2 ** 30, 31)).toBe(-1);
    expect(requantize(3, 2 ** 30, 31)).toBe(2);
  });

  it('is exact in int64 where the product passes 2^53', () => {
    for (const [x, m, s] of [[2 ** 31 - 1, MULT_MAX, 10], [-(2 ** 31), MULT_MAX, 10], [-(2 ** 31), MULT_MIN, 62], [123456789, 1518500250, 37], [-987654321, 1518500251, 33]] as const) {
      expect(BigInt(requantize(x, m, s))).toBe(exact(x, m, s));
    }
  });

  it('keeps the sign of results beyond 2^53, which a clamp to int8 is all that reads', () => {
    expect(requantize(2 ** 31 - 1, MULT_MAX, 1)).toBeGreaterThan(2 ** 53);
    expect(requantize(-(2 ** 31), MULT_MAX, 1)).toBeLessThan(-(2 ** 53));
  });
});

describe('rounding helpers', () => {
  it('roundHalfAway rounds halves away from zero', () => {
    expect([2.5, -2.5, 0.5, -0.5, 1.49, -1.51].map(roundHalfAway)).toEqual([3, -3, 1, -1, 1, -2]);
  });

  it('divRound divides rounding half away from zero', () => {
    expect([divRound(5, 2), divRound(-5, 2), divRound(4, 3), divRound(-4, 3), divRound(7, 9), divRound(-7, 9), divRound(0, 4)]).toEqual([3, -3, 1, -1, 1, -1, 0]);
  });
});
