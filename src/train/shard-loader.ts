/**
 * One rank's part of every global batch. All ranks draw the same permutation
 * of an epoch (same seed, same epoch); global batch b holds positions
 * [b·B, (b+1)·B) of it, as in one process, and rank r takes its contiguous
 * slice of that batch. Augmentation is seeded per sample index, so the images
 * a rank sees are bit for bit those one process sees at the same positions.
 */
import { ConfigError } from '../errors.js';
import { DataLoader, type DataLoaderOptions } from '../data/loader.js';
import type { Dataset } from '../data/dataset.js';

/** [start, end) of rank `rank`'s slice of `length` items split over `count` ranks, as evenly as integers allow. */
export function shardBounds(length: number, rank: number, count: number): [number, number] {
  return [Math.floor((rank * length) / count), Math.floor(((rank + 1) * length) / count)];
}

export class ShardedLoader extends DataLoader {
  readonly globalBatchSize: number;

  /** `options.batchSize` is the global batch; it must split evenly, so every full batch gives each rank the same share. */
  constructor(
    dataset: Dataset,
    options: DataLoaderOptions,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    const global = options.batchSize;
    if (!Number.isInteger(global) || global % worldSize !== 0) {
      throw new ConfigError('--batch-size', `the global batch (${global}) must be a multiple of the number of ranks (${worldSize}), since each rank takes an equal part of it`);
    }
    super(dataset, { ...options, batchSize: global / worldSize });
    this.globalBatchSize = global;
    const last = this.globalBatchLength(this.length - 1);
    if (last < worldSize) {
      throw new ConfigError('--batch-size', `the last batch of ${dataset.length} images holds ${last}, fewer than the ${worldSize} ranks; use fewer ranks or more data`);
    }
  }

  /** Global batches per epoch: the same step count as one process with the same batch. */
  override get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.globalBatchSize) : Math.ceil(n / this.globalBatchSize);
  }

  /** Images in global batch `step` over all ranks. */
  globalBatchLength(step: number): number {
    return Math.min(this.globalBatchSize, this.dataset.length - step * this.globalBatchSize);
  }

  /** This rank's slices of the epoch's global batches, back to back; DataLoader cuts them into batches of B / world size. */
  override order(epoch: number): Int32Array {
    const all = super.order(epoch);
    const parts: Int32Array[] = [];
    for (let b = 0; b < this.length; b++) {
      const batchStart = b * this.globalBatchSize;
      const [lo, hi] = shardBounds(this.globalBatchLength(b), this.rank, this.worldSize);
      parts.push(all.subarray(batchStart + lo, batchStart + hi));
    }
    const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Items [start, end) of a dataset in order: one rank's part of an evaluation. */
export class RangeLoader extends DataLoader {
  constructor(
    dataset: Dataset,
    options: DataLoaderOptions,
    readonly start: number,
    readonly end: number,
  ) {
    super(dataset, { ...options, shuffle: false, dropLast: false });
  }

  override get length(): number {
    return Math.ceil((this.end - this.start) / this.batchSize);
  }

  override order(): Int32Array {
    return Int32Array.from({ length: this.end - this.start }, (_, i) => this.start + i);
  }
}
