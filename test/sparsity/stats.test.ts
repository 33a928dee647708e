import { describe, expect, it } from 'vitest';
import { computeMasks, layerStats, modelStats, type LayerWeight } from '../../src/sparsity/index.js';
import { layerOf } from './reference.js';

describe('sparsity statistics', () => {
  // conv [2, 4, 1, 1] on a 3x3 output, linear [1, 4].
  const conv: LayerWeight = {
    name: 'conv', kind: 'conv', shape: [2, 4, 1, 1],
    data: Float32Array.from([1, 2, 3, 4, 0, 5, 6, 7]),
  };
  const fc: LayerWeight = { name: 'fc', kind: 'linear', shape: [1, 4], data: Float32Array.from([4, 0, 2, 1]) };
  const pattern = { kind: 'uhp', n: 2, m: 4, block: 1 } as const;

  it('count params, non-zeros and MACs of a hand-computed example', () => {
    const masks = computeMasks([conv], pattern);
    // conv keeps {3,4} and {6,7}: 4 non-zeros of 8; fc stays dense with 3 non-zeros.
    const stats = modelStats([conv, fc], masks, { conv: 9 }, pattern);
    expect(stats.layers[0]).toEqual({
      name: 'conv', kind: 'conv', shape: [2, 4, 1, 1], params: 8, nonZeros: 4, sparsity: 0.5,
      denseMacs: 72, effectiveMacs: 36, masked: true, uniform: true,
    });
    expect(stats.layers[1]).toMatchObject({ params: 4, nonZeros: 3, sparsity: 0.25, denseMacs: 4, effectiveMacs: 3, masked: false, uniform: null });
    expect(stats).toMatchObject({ params: 12, nonZeros: 7, denseMacs: 76, effectiveMacs: 39, uniform: true });
    expect(stats.sparsity).toBeCloseTo(5 / 12, 12);
  });

  it('flag a layer that is not uniform', () => {
    const mask = Uint8Array.from([1, 1, 1, 0, 0, 0, 1, 1]);
    expect(layerStats(conv, mask, 1, pattern).uniform).toBe(false);
    expect(modelStats([conv], new Map([['conv', mask]]), { conv: 1 }, pattern).uniform).toBe(false);
  });

  it('need the output size of every conv', () => {
    expect(() => modelStats([conv], new Map(), {})).toThrow(/^outPositions: no output size given for conv layer conv$/);
  });

  it('report half of the weights and MACs for 2:4 on a ResNet-like stack', () => {
    const layers = [layerOf('a', 'conv', [16, 16, 3, 3], 1), layerOf('b', 'conv', [32, 16, 3, 3], 2)];
    const masks = computeMasks(layers, pattern);
    const stats = modelStats(layers, masks, { a: 1024, b: 256 }, pattern);
    expect(stats.denseMacs).toBe(2304 * 1024 + 4608 * 256);
    expect(stats.layers.map((s) => s.nonZeros)).toEqual([1152, 2304].map((half, i) => half - zerosKept(layers[i]!, masks)));
    expect(stats.uniform).toBe(true);
  });
});

/** Kept weights that happen to be exactly zero do not count as non-zeros. */
function zerosKept(layer: LayerWeight, masks: Map<string, Uint8Array>): number {
  const mask = masks.get(layer.name)!;
  return [...layer.data].filter((w, i) => w === 0 && mask[i]).length;
}
