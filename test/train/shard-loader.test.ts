import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { RangeLoader, ShardedLoader, shardBounds } from '../../src/train/shard-loader.js';

const data = await openData('synthetic:size=8,trainPerClass=5,testPerClass=1', { cacheDir: false });
const options = { shuffle: true, seed: 7, workers: 0, transforms: data.info.transforms.train, stats: { mean: data.info.mean, std: data.info.std } };

async function batches(loader: DataLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.batches(epoch)) out.push(b);
  return out;
}

describe('ShardedLoader', () => {
  it.each([
    [2, 8, true],
    [4, 8, true],
    [2, 64, false],
  ])('over %i ranks, global batch %i: the ranks’ parts of each batch, side by side, are one process’s batch, pixels and labels', async (ranks, batchSize, dropLast) => {
    const one = new DataLoader(data.train, { ...options, batchSize, dropLast });
    const parts = Array.from({ length: ranks }, (_, r) => new ShardedLoader(data.train, { ...options, batchSize, dropLast }, r, ranks));
    for (const epoch of [0, 1]) {
      const whole = await batches(one, epoch);
      const shards = await Promise.all(parts.map((p) => batches(p, epoch)));
      expect(parts[0]!.length).toBe(one.length);
      whole.forEach((b, i) => {
        expect(shards.map((s) => s[i]!.n).reduce((a, n) => a + n, 0)).toBe(b.n);
        expect(Array.from(shards.flatMap((s) => [...s[i]!.y]))).toEqual([...b.y]);
        const x = new Float32Array(b.x.length);
        let at = 0;
        for (const s of shards) {
          x.set(s[i]!.x, at);
          at += s[i]!.x.length;
        }
        expect(x).toEqual(b.x);
        expect(parts[0]!.globalBatchLength(i)).toBe(b.n);
      });
    }
  });

  it('refuses a global batch the ranks cannot share evenly, and a last batch smaller than the number of ranks', () => {
    expect(() => new ShardedLoader(data.train, { ...options, batchSize: 9, dropLast: true }, 0, 2)).toThrow(
      '--batch-size: the global batch (9) must be a multiple of the number of ranks (2), since each rank takes an equal part of it',
    );
    expect(() => new ShardedLoader(data.test, { ...options, batchSize: 32, dropLast: false }, 0, 32)).toThrow(/^--batch-size: the last batch of 10 images holds 10, fewer than the 32 ranks/);
  });
});

describe('RangeLoader and shardBounds', () => {
  it('cover a set once, in order, in contiguous parts as even as integers allow', async () => {
    expect([0, 1, 2].map((r) => shardBounds(10, r, 3))).toEqual([
      [0, 3],
      [3, 6],
      [6, 10],
    ]);
    const labels: number[] = [];
    for (let r = 0; r < 3; r++) {
      const [start, end] = shardBounds(data.train.length, r, 3);
      for (const b of await batches(new RangeLoader(data.train, { ...options, batchSize: 4 }, start, end), 0)) labels.push(...b.y);
    }
    expect(labels).toEqual([...data.train.labels]);
  });
});
