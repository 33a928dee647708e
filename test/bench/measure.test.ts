import { describe, expect, it } from 'vitest';
import { measureRoundRobin } from '../../src/bench/measure.js';

describe('measureRoundRobin', () => {
  it('runs each contender `turn` times in a row, warm-up first, and times only the runs after it', async () => {
    const calls: string[] = [];
    const contender = (name: string, ms: number) => ({
      name,
      run: () => {
        calls.push(name);
        const until = performance.now() + ms;
        while (performance.now() < until);
      },
    });
    const medians = await measureRoundRobin([contender('a', 0), contender('b', 3)], { runs: 4, warmup: 1, turn: 2 });
    expect(calls.join('')).toBe('aabbaabbab');
    expect(medians[0]!).toBeLessThan(1);
    expect(medians[1]!).toBeGreaterThanOrEqual(3);
  });

  it('with turns of 1 alternates every inference', async () => {
    const calls: string[] = [];
    await measureRoundRobin(['x', 'y', 'z'].map((name) => ({ name, run: () => calls.push(name) })), { runs: 2, warmup: 0, turn: 1 });
    expect(calls.join('')).toBe('xyzxyz');
  });
});
