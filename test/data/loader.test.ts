import { afterAll, describe, expect, it } from 'vitest';
import { ArrayDataset, type Batch, DataLoader, type Dataset, type TransformSpec } from '../../src/data/index.js';
import { bytes } from './formats.js';

/** 23 samples of 1x4x4 whose first pixel is the sample's index, so batches reveal their order. */
function indexed(): ArrayDataset {
  const images = bytes(23 * 16, 5);
  const labels = new Int32Array(23);
  for (let i = 0; i < 23; i++) {
    images[i * 16] = i;
    labels[i] = i % 3;
  }
  return new ArrayDataset('indexed', ['a', 'b', 'c'], 1, 4, 4, images, labels);
}

async function collect(iterable: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of iterable) out.push(batch);
  return out;
}

const augment: TransformSpec[] = [{ op: 'randomCrop', size: 4, padding: 2 }, { op: 'hflip' }, { op: 'toFloat' }, { op: 'normalize', mean: [0.5], std: [0.25] }];
const loaders: DataLoader[] = [];
function loader(dataset: Dataset, options: ConstructorParameters<typeof DataLoader>[1]): DataLoader {
  const l = new DataLoader(dataset, options);
  loaders.push(l);
  return l;
}
afterAll(async () => {
  await Promise.all(loaders.map((l) => l.close()));
});

describe('DataLoader', () => {
  it('visits every sample once per epoch, in batches of batchSize with a smaller last one', async () => {
    const l = loader(indexed(), { batchSize: 5, shuffle: true, seed: 9, workers: 0 });
    const batches = await collect(l);
    expect(batches.map((b) => b.n)).toEqual([5, 5, 5, 5, 3]);
    expect(l.length).toBe(5);
    const seen = batches.flatMap((b) => Array.from({ length: b.n }, (_, i) => b.x[i * 16]!));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(seen).not.toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(batches[0]!.y[0]).toBe(seen[0]! % 3);
    const dropped = await collect(loader(indexed(), { batchSize: 5, dropLast: true, workers: 0 }));
    expect(dropped.map((b) => b.n)).toEqual([5, 5, 5, 5]);
    expect(Array.from(dropped[0]!.y)).toEqual([0, 1, 2, 0, 1]);
  });

  it('is a function of (seed, epoch): same order and augmentation again, new ones next epoch', async () => {
    const a = loader(indexed(), { batchSize: 4, shuffle: true, seed: 1, transforms: augment, workers: 0 });
    const b = loader(indexed(), { batchSize: 4, shuffle: true, seed: 1, transforms: augment, workers: 0 });
    const a0 = await collect(a.batches(0));
    expect(await collect(b.batches(0))).toEqual(a0);
    expect(await collect(a.batches(1))).not.toEqual(a0);
    expect(a.epoch).toBe(0);
    expect(await collect(a)).toEqual(a0);
    expect(a.epoch).toBe(1);
    // Resuming mid-epoch yields exactly the remaining batches.
    expect(await collect(a.batches(0, 3))).toEqual(a0.slice(3));
    const other = loader(indexed(), { batchSize: 4, shuffle: true, seed: 2, transforms: augment, workers: 0 });
    expect(await collect(other.batches(0))).not.toEqual(a0);
  });

  it('prefetch workers give the same batches as the calling thread', async () => {
    const inThread = loader(indexed(), { batchSize: 6, shuffle: true, seed: 4, transforms: augment, workers: 0 });
    const oneWorker = loader(indexed(), { batchSize: 6, shuffle: true, seed: 4, transforms: augment, workers: 1, prefetch: 3 });
    const twoWorkers = loader(indexed(), { batchSize: 6, shuffle: true, seed: 4, transforms: augment, workers: 2 });
    for (const epoch of [0, 1]) {
      const expected = await collect(inThread.batches(epoch));
      expect(await collect(oneWorker.batches(epoch))).toEqual(expected);
      expect(await collect(twoWorkers.batches(epoch))).toEqual(expected);
    }
    // Stopping early and starting again leaves no stale batch behind.
    for await (const first of oneWorker.batches(0)) {
      expect(first.n).toBe(6);
      break;
    }
    expect(await collect(oneWorker.batches(1))).toEqual(await collect(inThread.batches(1)));
  });

  it('packs any Dataset implementation and reports the output shape', async () => {
    const plain: Dataset = {
      name: 'plain',
      classes: ['x', 'y'],
      channels: 2,
      height: 2,
      width: 3,
      length: 3,
      get: (i) => ({ image: Float32Array.from({ length: 12 }, (_, k) => i * 100 + k), label: i % 2 }),
    };
    const l = loader(plain, { batchSize: 2, transforms: [{ op: 'centerCrop', size: [2, 1] }], workers: 0 });
    expect(l.shape).toEqual({ channels: 2, height: 2, width: 1 });
    const batches = await collect(l);
    expect(batches.map((b) => [b.n, b.c, b.h, b.w])).toEqual([[2, 2, 2, 1], [1, 2, 2, 1]]);
    expect(Array.from(batches[1]!.x)).toEqual([201, 204, 207, 210]);
    expect(Array.from(batches[1]!.y)).toEqual([0]);
  });

  it('rejects a bad batch size naming the option', () => {
    expect(() => new DataLoader(indexed(), { batchSize: 0 })).toThrow(/^batchSize: must be a positive integer/);
  });
});
