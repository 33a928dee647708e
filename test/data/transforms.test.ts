import { describe, expect, it } from 'vitest';
import { defaultTransforms, Pipeline, type TransformSpec } from '../../src/data/index.js';
import { Rng } from '../../src/data/rng.js';

/** Runs a pipeline on a hand-made CHW image. */
function run(specs: TransformSpec[], image: number[], shape: [number, number, number], opts: { dtype?: 'uint8' | 'float32'; seed?: number; stats?: { mean: number[]; std: number[] } } = {}) {
  const [channels, height, width] = shape;
  const pipeline = new Pipeline(specs, { channels, height, width, dtype: opts.dtype ?? 'float32' }, opts.stats);
  const out = new Float32Array(pipeline.output.channels * pipeline.output.height * pipeline.output.width);
  const input = opts.dtype === 'uint8' ? Uint8Array.from(image) : Float32Array.from(image);
  pipeline.apply(input, new Rng(opts.seed ?? 1), out, 0);
  return { out: Array.from(out), shape: pipeline.output };
}

// 1 channel, 3 rows x 4 columns: value = 10 * row + column.
const grid = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23];

describe('transforms', () => {
  it('centre-crops, and zero-pads around the centre when larger', () => {
    expect(run([{ op: 'centerCrop', size: [1, 2] }], grid, [1, 3, 4]).out).toEqual([11, 12]);
    expect(run([{ op: 'centerCrop', size: [3, 6] }], grid, [1, 3, 4]).out).toEqual([0, 0, 1, 2, 3, 0, 0, 10, 11, 12, 13, 0, 0, 20, 21, 22, 23, 0]);
  });

  it('random crop picks every window of the zero-padded image, deterministically by seed', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const { out } = run([{ op: 'randomCrop', size: 3, padding: 1 }], grid, [1, 3, 4], { seed });
      expect(run([{ op: 'randomCrop', size: 3, padding: 1 }], grid, [1, 3, 4], { seed }).out).toEqual(out);
      seen.add(out.join(','));
    }
    // Padded image is 5x6: 3 x 4 windows of 3x3.
    expect(seen.size).toBe(12);
    expect(seen.has([0, 0, 0, 0, 0, 1, 0, 10, 11].join(','))).toBe(true);
    expect(seen.has([12, 13, 0, 22, 23, 0, 0, 0, 0].join(','))).toBe(true);
  });

  it('flips horizontally with probability p', () => {
    expect(run([{ op: 'hflip', p: 1 }], grid, [1, 3, 4]).out).toEqual([3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20]);
    expect(run([{ op: 'hflip', p: 0 }], grid, [1, 3, 4]).out).toEqual(grid);
  });

  it('resizes bilinearly with half-pixel centres', () => {
    expect(run([{ op: 'resize', size: [3, 2] }], grid, [1, 3, 4]).out).toEqual([0.5, 2.5, 10.5, 12.5, 20.5, 22.5]);
    expect(run([{ op: 'resize', size: [1, 2] }], [0, 4, 8, 12], [1, 2, 2]).out).toEqual([4, 8]);
  });

  it('scales 8-bit pixels in toFloat and normalises per channel with given or dataset statistics', () => {
    const two = [0, 255, 51, 102];
    expect(run([{ op: 'toFloat' }], two, [2, 1, 2], { dtype: 'uint8' }).out).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    const given = run([{ op: 'normalize', mean: [1, 2], std: [2, 4] }], [3, 5, 6, 10], [2, 1, 2]).out;
    expect(given).toEqual([1, 2, 1, 2]);
    const fromData = run([{ op: 'toFloat' }, { op: 'normalize' }], two, [2, 1, 2], { dtype: 'uint8', stats: { mean: [0.5, 0.3], std: [0.5, 0.1] } }).out;
    expect(fromData.map((v) => Number(v.toFixed(5)))).toEqual([-1, 1, -1, 1]);
  });

  it('rejects bad pipelines naming the key', () => {
    const input = { channels: 1, height: 8, width: 8, dtype: 'uint8' as const };
    expect(() => new Pipeline([{ op: 'randomCrop', size: 12, padding: 1 }], input)).toThrow(/transforms\[0\]\.size: 12x12 is larger than the 8x8 image padded by 1/);
    expect(() => new Pipeline([{ op: 'spin' } as unknown as TransformSpec], input)).toThrow(/^transforms\[0\]\.op: /);
    expect(() => new Pipeline([{ op: 'hflip', p: 2 }], input)).toThrow(/transforms\[0\]\.p: /);
    expect(() => new Pipeline([{ op: 'centerCrop', size: 4, pad: 1 } as unknown as TransformSpec], input)).toThrow(/transforms\[0\]/);
    expect(() => new Pipeline([{ op: 'normalize' }], input, { mean: [0.5], std: [0.2] })).toThrow(/put toFloat before it/);
    expect(() => new Pipeline([{ op: 'toFloat' }, { op: 'normalize', mean: [1, 2, 3], std: [1, 1, 1] }], input)).toThrow(/transforms\[1\]\.mean: has 3 values for 1 channels/);
  });

  it('default pipelines fit the shapes of their data', () => {
    const mstar = defaultTransforms('mstar', { channels: 1, height: 128, width: 128 });
    const input = { channels: 1, height: 128, width: 128, dtype: 'uint8' as const };
    const stats = { mean: [0.1], std: [0.1] };
    expect(new Pipeline(mstar.train, input, stats).output).toEqual({ channels: 1, height: 88, width: 88 });
    expect(new Pipeline(mstar.test, input, stats).output).toEqual({ channels: 1, height: 88, width: 88 });
    const cifar = defaultTransforms('cifar100', { channels: 3, height: 32, width: 32 });
    expect(cifar.train[0]).toEqual({ op: 'randomCrop', size: [32, 32], padding: 4 });
  });
});
