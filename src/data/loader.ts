/**
 * Batches over a Dataset: shuffled by (seed, epoch), transformed per sample,
 * prefetched by worker threads. Worker and in-thread paths give identical
 * batches because both run assembleBatch with the same per-sample seeds.
 */
import type { Worker } from 'node:worker_threads';
import { ConfigError, DstError } from '../errors.js';
import { assembleBatch, type Batch, type PackedSource } from './batch.js';
import { type ArrayDataset, type ChannelStats, type Dataset, packDataset } from './dataset.js';
import type { PrefetchInit, PrefetchReply, PrefetchRequest } from './prefetch-protocol.js';
import { mixSeed, permutation, Rng } from './rng.js';
import { type ImageShape, Pipeline, type TransformSpec } from './transforms.js';
import { spawnModuleWorker } from './worker-spawn.js';

export type { Batch } from './batch.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Reorder every epoch with a permutation drawn from (seed, epoch). Default false. */
  shuffle?: boolean;
  /** Seeds shuffling and random transforms. Default 0. */
  seed?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  transforms?: readonly TransformSpec[];
  /** Statistics for `normalize` without explicit mean/std (DataSplits.info has them). */
  stats?: ChannelStats;
  /** Worker threads building batches; 0 builds them on the calling thread. Default 1. */
  workers?: number;
  /** Batches requested ahead of the consumer. Default 2 per worker. */
  prefetch?: number;
}

const SHUFFLE_STREAM = 0x5348554e;

interface Pending {
  resolve: (batch: Batch) => void;
  reject: (err: Error) => void;
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly workers: number;
  readonly prefetch: number;
  /** Shape of every sample in a batch. */
  readonly shape: ImageShape;
  /** The epoch the next `for await` iterates; it advances after each iteration starts. */
  epoch = 0;

  private readonly packed: ArrayDataset;
  private readonly pipeline: Pipeline;
  private readonly transforms: TransformSpec[];
  private readonly stats: ChannelStats | undefined;
  private threads: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(
    readonly dataset: Dataset,
    options: DataLoaderOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new ConfigError('batchSize', `must be a positive integer, got ${options.batchSize}`);
    }
    this.batchSize = options.batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = (options.seed ?? 0) >>> 0;
    this.dropLast = options.dropLast ?? false;
    this.workers = options.workers ?? 1;
    if (!Number.isInteger(this.workers) || this.workers < 0) {
      throw new ConfigError('workers', `must be a non-negative integer, got ${options.workers}`);
    }
    this.prefetch = Math.max(1, options.prefetch ?? 2 * Math.max(1, this.workers));
    this.transforms = [...(options.transforms ?? [])];
    this.stats = options.stats;
    this.packed = packDataset(dataset);
    this.pipeline = new Pipeline(this.transforms, this.pipelineInput(), this.stats);
    this.shape = this.pipeline.output;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of an epoch: what `batches(epoch)` slices into batches. */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return permutation(n, new Rng(mixSeed(this.seed, SHUFFLE_STREAM, epoch)));
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.batches(this.epoch++);
  }

  /** The batches of one epoch, from batch `from` on (resuming mid-epoch gives the same remaining batches). */
  async *batches(epoch: number, from = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const ranges: Int32Array[] = [];
    for (let b = from; b < this.length; b++) {
      ranges.push(order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length)));
    }
    if (this.workers === 0) {
      for (const indices of ranges) yield assembleBatch(this.source(), this.pipeline, indices, this.seed, epoch);
      return;
    }
    this.startWorkers();
    const inFlight: Promise<Batch>[] = [];
    let next = 0;
    // A consumer that stops early leaves requests in flight; their replies settle promises nobody awaits.
    while (next < ranges.length || inFlight.length > 0) {
      while (next < ranges.length && inFlight.length < this.prefetch) {
        inFlight.push(this.request(next % this.threads.length, epoch, ranges[next]!));
        next++;
      }
      yield await inFlight.shift()!;
    }
  }

  /** Stops the worker threads; the loader starts new ones if iterated again. */
  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const { reject } of this.pending.values()) reject(new DstError('E_CLOSED', 'data loader closed'));
    this.pending.clear();
    await Promise.all(threads.map((t) => t.terminate()));
  }

  private pipelineInput() {
    const { channels, height, width } = this.packed;
    return { channels, height, width, dtype: this.packed.images instanceof Uint8Array ? ('uint8' as const) : ('float32' as const) };
  }

  private source(): PackedSource {
    return { images: this.packed.images, labels: this.packed.labels, sampleSize: this.packed.sampleSize };
  }

  private startWorkers(): void {
    if (this.failure) throw this.failure;
    if (this.threads.length > 0) return;
    const init: PrefetchInit = {
      source: this.source(),
      input: this.pipelineInput(),
      transforms: this.transforms,
      stats: this.stats,
      seed: this.seed,
    };
    for (let i = 0; i < this.workers; i++) {
      const thread = spawnModuleWorker('prefetch-worker', init);
      thread.unref();
      thread.on('message', (reply: PrefetchReply) => this.settle(reply));
      thread.on('error', (err) => this.fail(err));
      this.threads.push(thread);
    }
  }

  private request(thread: number, epoch: number, indices: Int32Array): Promise<Batch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const promise = new Promise<Batch>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // Marked handled: a batch nobody awaits any more (loader closed mid-epoch) must not raise an unhandled rejection.
    promise.catch(() => undefined);
    // Referenced only while a reply is awaited, so an idle loader never keeps the process alive.
    this.threads[thread]!.ref();
    this.threads[thread]!.postMessage({ id, epoch, indices: indices.slice() } satisfies PrefetchRequest);
    return promise;
  }

  private settle(reply: PrefetchReply): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) for (const t of this.threads) t.unref();
    if ('error' in reply) {
      waiter.reject(new DstError('E_LOADER', `data loader worker: ${reply.error}`));
      return;
    }
    const { channels: c, height: h, width: w } = this.shape;
    waiter.resolve({ x: reply.x, y: reply.y, n: reply.y.length, c, h, w });
  }

  private fail(err: Error): void {
    this.failure = new DstError('E_LOADER', `data loader worker failed: ${err.message}`);
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
    void this.close();
  }
}
