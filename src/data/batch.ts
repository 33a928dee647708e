/** Batch assembly shared by the in-thread loader and the prefetch worker, so both give identical bytes. */
import type { PixelArray } from './dataset.js';
import { mixSeed, Rng } from './rng.js';
import type { Pipeline } from './transforms.js';

/** A batch in NCHW order, ready to become a tensor. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

export interface PackedSource {
  images: PixelArray;
  labels: Int32Array;
  sampleSize: number;
}

/** Salt that separates the augmentation stream from the shuffling stream of the same seed. */
export const AUGMENT_STREAM = 0x41554721;

export function assembleBatch(source: PackedSource, pipeline: Pipeline, indices: ArrayLike<number>, seed: number, epoch: number): Batch {
  const { channels: c, height: h, width: w } = pipeline.output;
  const n = indices.length;
  const per = c * h * w;
  const x = new Float32Array(n * per);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const index = indices[i]!;
    const image = source.images.subarray(index * source.sampleSize, (index + 1) * source.sampleSize);
    // Seeded by the sample, not its position, so the worker split and batch size never matter.
    pipeline.apply(image, new Rng(mixSeed(seed, AUGMENT_STREAM, epoch, index)), x, i * per);
    y[i] = source.labels[index]!;
  }
  return { x, y, n, c, h, w };
}
