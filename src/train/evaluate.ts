import { DataLoader } from '../data/loader.js';
import type { ArrayDataset, ChannelStats } from '../data/dataset.js';
import type { TransformSpec } from '../data/transforms.js';
import * as F from '../nn/functional.js';
import type { Module } from '../nn/module.js';
import { noGrad, tensor, type Tensor } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';
import { ClassificationMeter } from './metrics.js';
import { RangeLoader, shardBounds } from './shard-loader.js';

/** One rank's part of a data-parallel evaluation, and the sum over all ranks. */
export interface EvalShard {
  rank: number;
  worldSize: number;
  sum: (values: number[]) => number[];
}

export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  count: number;
  perClassAccuracy: number[];
  confusion: number[][];
  /** Arg-max class per image, in dataset order; -1 where the scores were not finite. */
  predictions: Int32Array;
}

export interface EvalOptions {
  batchSize: number;
  transforms: readonly TransformSpec[];
  stats: ChannelStats;
  workers?: number;
  /** Called after each batch with (done, total) images (this rank's, when sharded). */
  onBatch?: (done: number, total: number) => void;
  /** Evaluate a contiguous part of the set on each rank and sum the counts; every rank gets the whole set's result. */
  shard?: EvalShard;
}

/** Batch tensors from a loader batch: images NCHW float32, labels int64. */
export function batchTensors(batch: { x: Float32Array; y: Int32Array; n: number; c: number; h: number; w: number }): { x: Tensor; y: Tensor } {
  return tidy(() => ({ x: tensor(batch.x, [batch.n, batch.c, batch.h, batch.w]), y: tensor(batch.y, [batch.n], 'int32').to('int64') }));
}

/** Top-1/top-5, loss and confusion of `model` on `dataset` in eval mode; restores the model's mode. */
export async function evaluate(model: Module, dataset: ArrayDataset, numClasses: number, options: EvalOptions): Promise<EvalResult> {
  const loaderOptions = { batchSize: options.batchSize, transforms: options.transforms, stats: options.stats, workers: options.workers ?? 1 };
  const [start, end] = options.shard ? shardBounds(dataset.length, options.shard.rank, options.shard.worldSize) : [0, dataset.length];
  const loader = options.shard ? new RangeLoader(dataset, loaderOptions, start, end) : new DataLoader(dataset, loaderOptions);
  const wasTraining = model.training;
  model.eval();
  const meter = new ClassificationMeter(numClasses);
  const predictions = new Int32Array(dataset.length);
  let at = start;
  try {
    for await (const batch of loader) {
      noGrad(() =>
        tidy(() => {
          const { x, y } = batchTensors(batch);
          const logits = model.forward(x);
          predictions.set(meter.add(logits, batch.y, F.crossEntropy(logits, y).item()), at);
          at += batch.n;
        }),
      );
      options.onBatch?.(meter.count, end - start);
      // Batches from memory never yield to the event loop; a signal would otherwise wait for the whole evaluation.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    await loader.close();
    model.train(wasTraining);
  }
  if (options.shard) {
    const { sum } = options.shard;
    meter.combine(sum);
    // Each rank filled its own range and left zeros elsewhere: the sum is every prediction once.
    predictions.set(sum([...predictions]));
  }
  return { loss: meter.loss, top1: meter.top1, top5: meter.top5, count: meter.count, perClassAccuracy: meter.perClassAccuracy(), confusion: meter.confusion, predictions };
}
