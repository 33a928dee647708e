import { describe, expect, it } from 'vitest';
import { measureRoundRobin, quantile } from '../../src/bench/measure.js';

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
    const latency = await measureRoundRobin([contender('a', 0), contender('b', 3)], { runs: 4, warmup: 1, turn: 2 });
    expect(calls.join('')).toBe('aabbaabbab');
    expect(latency[0]!.ms).toBeLessThan(1);
    expect(latency[1]!.ms).toBeGreaterThanOrEqual(3);
    expect(latency[1]!.p90).toBeGreaterThanOrEqual(latency[1]!.ms);
  });

  it('reports the 90th percentile by nearest rank', () => {
    const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(quantile(ten, 0.9)).toBe(9);
    expect(quantile(ten, 0.5)).toBe(5);
    expect(quantile([...ten, 100], 0.9)).toBe(10);
    expect(quantile([4], 0.9)).toBe(4);
  });

  it('with turns of 1 alternates every inference', async () => {
    const calls: string[] = [];
    await measureRoundRobin(['x', 'y', 'z'].map((name) => ({ name, run: () => calls.push(name) })), { runs: 2, warmup: 0, turn: 1 });
    expect(calls.join('')).toBe('xyzxyz');
  });
});
