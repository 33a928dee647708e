import { describe, expect, it } from 'vitest';
import { calibrateRanges } from '../../src/quant/calibrate.js';
import { reference, resnet20 } from '../engine/graphs.js';
import { calibrationSet, rawImages } from './graphs.js';

describe('calibrateRanges', () => {
  const graph = resnet20(2, 8, 8);
  const count = 12;
  const set = calibrationSet(graph, count, 4);
  const values = ['input', graph.nodes[0]!.output, graph.output];

  it('minmax: the extremes of each value over the set, in one pass', () => {
    const passes: number[][] = [];
    const ranges = calibrateRanges(graph, set, values, { method: 'minmax', batchSize: 5, onProgress: (done, total, pass, of) => passes.push([done, total, pass, of]) });
    expect(passes).toEqual([[5, 12, 1, 1], [10, 12, 1, 1], [12, 12, 1, 1]]);
    expect(ranges.get('input')).toEqual([Math.min(...set.images), Math.max(...set.images)]);
    const raw = rawImages(graph, count, 4);
    const per = raw.length / count;
    const logits = Array.from({ length: count }, (_, n) => [...reference(graph, raw.subarray(n * per, (n + 1) * per))]).flat();
    const [lo, hi] = ranges.get(graph.output)!;
    expect(lo).toBeCloseTo(Math.min(...logits), 4);
    expect(hi).toBeCloseTo(Math.max(...logits), 4);
    // The stem conv has a fused ReLU.
    expect(ranges.get(graph.nodes[0]!.output)![0]).toBe(0);
  });

  it('percentile and mse clip inside the extremes, in two passes', () => {
    const full = calibrateRanges(graph, set, values, { method: 'minmax' });
    for (const method of ['percentile', 'mse'] as const) {
      let last: number[] = [];
      const ranges = calibrateRanges(graph, set, values, { method, percentile: 99, onProgress: (...p) => (last = p) });
      expect(last).toEqual([12, 12, 2, 2]);
      for (const v of values) {
        const [lo, hi] = ranges.get(v)!;
        const [flo, fhi] = full.get(v)!;
        expect(lo).toBeGreaterThanOrEqual(Math.min(flo, 0));
        expect(hi).toBeLessThanOrEqual(Math.max(fhi, 0));
        expect(lo).toBeLessThanOrEqual(0);
        expect(hi).toBeGreaterThan(0);
      }
    }
    // 1% of the input's samples lie beyond the 99th percentile: the range is strictly narrower, unless kept whole.
    const p99 = calibrateRanges(graph, set, ['input'], { method: 'percentile', percentile: 99 }).get('input')!;
    expect(p99[1]).toBeLessThan(full.get('input')![1]);
    const whole = calibrateRanges(graph, set, ['input'], { method: 'percentile', percentile: 99, fullRange: new Set(['input']) }).get('input')!;
    expect(whole).toEqual(full.get('input'));
  });
});
