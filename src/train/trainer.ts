import { DstError } from '../errors.js';
import type { DataSplits } from '../data/open.js';
import { DataLoader } from '../data/loader.js';
import type { TransformSpec } from '../data/transforms.js';
import * as F from '../nn/functional.js';
import type { Module } from '../nn/module.js';
import { SGD } from '../torch/optim.js';
import { tidy } from '../torch/scope.js';
import { manualSeed, type Tensor } from '../torch/tensor.js';
import { setNumThreads } from '../torch/threads.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { recalibrateBatchNorm } from './bn-recalibration.js';
import { batchTensors, evaluate, type EvalResult } from './evaluate.js';
import { firstNonFiniteTensor } from './finite.js';
import { ClassificationMeter } from './metrics.js';
import type { TrainRecipe } from './recipe.js';
import type { RunDir } from './run-dir.js';
import type { DataParallel } from './data-parallel.js';
import { ShardedLoader } from './shard-loader.js';
import { useSyncBatchNorm } from './sync-batchnorm.js';
import { learningRateAt } from './schedule.js';

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  trainTop1: number;
  testLoss: number;
  testTop1: number;
  testTop5: number;
  seconds: number;
  imagesPerSecond: number;
  [extra: string]: number;
}

export interface StepInfo {
  epoch: number;
  /** Step within the epoch. */
  step: number;
  globalStep: number;
  stepsPerEpoch: number;
}

/** Where distillation and pruning plug into the loop. */
export interface TrainHooks {
  /** The batch loss; default cross-entropy (with the recipe's label smoothing). */
  loss?(logits: Tensor, labels: Tensor, inputs: Tensor, info: StepInfo): Tensor;
  /** Before the optimizer step, gradients in place (e.g. SR-STE decay). */
  beforeStep?(info: StepInfo): void;
  /** After the optimizer step (e.g. masks re-applied or re-chosen). */
  afterStep?(info: StepInfo): void;
  beforeEpoch?(epoch: number): void;
  /** Once training starts or resumes, with the next global step. */
  onStart?(globalStep: number): void;
  /** Extra numbers for the epoch's metrics line (e.g. current sparsity). */
  epochMetrics?(epoch: number): Record<string, number>;
}

export type TrainEvent =
  | { kind: 'start'; startEpoch: number; epochs: number; stepsPerEpoch: number; trainSize: number; testSize: number }
  | { kind: 'step'; epoch: number; epochs: number; step: number; stepsPerEpoch: number; loss: number; accuracy: number; imagesPerSecond: number; lr: number; etaSeconds: number }
  | { kind: 'eval'; epoch: number; done: number; total: number }
  | { kind: 'epoch'; record: EpochRecord; history: readonly EpochRecord[]; epochs: number };

export interface TrainOptions {
  recipe: TrainRecipe;
  model: Module;
  data: DataSplits;
  runDir: RunDir;
  transforms: { train: TransformSpec[]; test: TransformSpec[] };
  resume: boolean;
  hooks?: TrainHooks;
  onEvent?: (event: TrainEvent) => void;
  /** Data-parallel over a process group: `recipe.batchSize` is then the global batch, split evenly over the ranks. */
  parallel?: DataParallel;
}

export interface TrainResult {
  history: EpochRecord[];
  final: EvalResult;
  seconds: number;
}

/** Loss, test loss or weights turned NaN or infinite: training stops, the last good checkpoint stays. */
export class DivergedError extends DstError {
  constructor(message: string) {
    super('E_DIVERGED', message);
    this.name = 'DivergedError';
  }
}

function lastGood(runDir: RunDir, epochsDone: number): string {
  return runDir.hasCheckpoint() ? `the last good checkpoint (epoch ${epochsDone}) is ${runDir.lastCheckpoint}` : 'no checkpoint was written yet';
}

/**
 * A step can leave finite losses behind and NaN weights: the loss is read
 * before the update. Such an epoch must not be checkpointed or reported.
 */
function checkFinite(model: Module, test: EvalResult, runDir: RunDir, epoch: number, lr: number): void {
  const tensor = firstNonFiniteTensor(model.stateDict());
  const what = tensor !== undefined ? `weights became non-finite (${tensor})` : !Number.isFinite(test.loss) ? `test loss became ${test.loss}` : undefined;
  if (what === undefined) return;
  throw new DivergedError(`${what} after epoch ${epoch + 1}; lower the learning rate (now ${lr.toPrecision(3)}); ${lastGood(runDir, epoch)}`);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { recipe, model, data, runDir, parallel, hooks = {}, onEvent = () => {} } = options;
  setNumThreads(recipe.threads);
  const numClasses = data.train.classes.length;
  const stats = { mean: data.info.mean, std: data.info.std };
  const params = model.parameters();
  const optimizer = new SGD(params, { ...recipe.optimizer, lr: recipe.optimizer.lr });
  const loaderOptions = {
    batchSize: recipe.batchSize,
    shuffle: true,
    seed: recipe.seed,
    dropLast: data.train.length > recipe.batchSize,
    transforms: options.transforms.train,
    stats,
    workers: recipe.workers,
  };
  const loader = parallel ? new ShardedLoader(data.train, loaderOptions, parallel.rank, parallel.worldSize) : new DataLoader(data.train, loaderOptions);
  const stepsPerEpoch = loader.length;
  // Only rank 0 writes; the others hold the same state and compute alongside.
  const writes = parallel?.isRoot ?? true;
  // Each rank evaluates its part of the test set; the counts are summed, so every rank holds the whole result.
  const shard = parallel ? { rank: parallel.rank, worldSize: parallel.worldSize, sum: (v: number[]) => parallel.sum(v) } : undefined;
  let history: EpochRecord[] = [];
  let startEpoch = 0;
  let globalStep = 0;
  const restoreBatchNorm = parallel && recipe.syncBn ? useSyncBatchNorm(model, parallel.group) : undefined;
  try {
    if (options.resume && writes && runDir.hasCheckpoint()) {
      const state = await loadCheckpoint(runDir.lastCheckpoint, model, optimizer);
      startEpoch = state.epoch;
      globalStep = state.step;
      history = state.history as EpochRecord[];
    }
    if (parallel) {
      // The checkpoint is rank 0's alone (its host holds the run folder), and a fresh model is rank 0's too.
      [startEpoch, globalStep] = parallel.group.shareFromRoot([startEpoch, globalStep]);
      parallel.broadcastModel(model);
      if (options.resume) parallel.broadcastMomentum(optimizer);
    }
    hooks.onStart?.(globalStep);
    let final: EvalResult | undefined;
    onEvent({ kind: 'start', startEpoch, epochs: recipe.epochs, stepsPerEpoch, trainSize: data.train.length, testSize: data.test.length });
    for (let epoch = startEpoch; epoch < recipe.epochs; epoch++) {
      // Reseeded per epoch so a resumed run draws the same dropout masks as an uninterrupted one.
      manualSeed(recipe.seed * 100_003 + epoch);
      hooks.beforeEpoch?.(epoch);
      model.train();
      const meter = new ClassificationMeter(numClasses);
      // Over all ranks when data-parallel (the meter then sees this rank's shard only).
      const epochTotals = { lossSum: 0, count: 0, correct: 0 };
      const soFar = (): { loss: number; top1: number; count: number } =>
        parallel
          ? { loss: epochTotals.lossSum / epochTotals.count, top1: epochTotals.correct / epochTotals.count, count: epochTotals.count }
          : { loss: meter.loss, top1: meter.top1, count: meter.count };
      const epochStart = performance.now();
      let step = 0;
      let lr = optimizer.lr;
      for await (const batch of loader.batches(epoch)) {
        const info: StepInfo = { epoch, step, globalStep, stepsPerEpoch };
        lr = learningRateAt(recipe.optimizer.lr, recipe.schedule, epoch + step / stepsPerEpoch, recipe.epochs);
        optimizer.lr = lr;
        const runStep = (): number => tidy(() => {
          const { x, y } = batchTensors(batch);
          optimizer.zeroGrad();
          const logits = model.forward(x);
          const loss = hooks.loss ? hooks.loss(logits, y, x, info) : F.crossEntropy(logits, y, { labelSmoothing: recipe.labelSmoothing });
          const value = loss.item();
          const finite = Number.isFinite(value);
          if (!parallel) {
            if (!finite) return value;
            loss.backward();
            hooks.beforeStep?.(info);
            optimizer.step();
            meter.add(logits.detach(), batch.y, value);
            return value;
          }
          // A rank whose loss diverged still joins the step's all-reduce (with no gradient), so every rank learns of it there.
          let correct = 0;
          if (finite) {
            loss.backward();
            const predictions = meter.add(logits.detach(), batch.y, value);
            correct = predictions.reduce((n, p, i) => n + (p === batch.y[i] ? 1 : 0), 0);
          }
          const share = finite ? batch.n / (loader as ShardedLoader).globalBatchLength(step) : 0;
          const global = parallel.reduceStep(params, share, { lossSum: value * batch.n, count: batch.n, correct });
          epochTotals.lossSum += global.lossSum;
          epochTotals.count += global.count;
          epochTotals.correct += global.correct;
          const mean = global.lossSum / global.count;
          if (!Number.isFinite(mean)) return mean;
          hooks.beforeStep?.(info);
          optimizer.step();
          return mean;
        });
        // Guarded: sync BatchNorm all-reduces inside forward and backward, where a lost rank surfaces too.
        const lossValue = parallel ? parallel.group.guard(runStep) : runStep();
        if (!Number.isFinite(lossValue)) {
          throw new DivergedError(`loss became ${lossValue} at epoch ${epoch + 1}, step ${step + 1}; lower the learning rate (now ${lr.toPrecision(3)}); ${lastGood(runDir, epoch)}`);
        }
        hooks.afterStep?.(info);
        // The batches may all come from memory; without a turn of the event loop a signal would wait for the epoch's end.
        await new Promise<void>((resolve) => setImmediate(resolve));
        step++;
        globalStep++;
        const elapsed = (performance.now() - epochStart) / 1000;
        const epochSoFar = soFar();
        const imagesPerSecond = epochSoFar.count / Math.max(elapsed, 1e-9);
        const remainingSteps = (recipe.epochs - epoch) * stepsPerEpoch - step;
        onEvent({
          kind: 'step',
          epoch,
          epochs: recipe.epochs,
          step,
          stepsPerEpoch,
          loss: epochSoFar.loss,
          accuracy: epochSoFar.top1,
          imagesPerSecond,
          lr,
          etaSeconds: (remainingSteps * recipe.batchSize) / Math.max(imagesPerSecond, 1e-9),
        });
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      const trained = soFar();
      const comm = parallel?.takeCommStats();
      if (epoch === recipe.epochs - 1) {
        await recalibrateBatchNorm(model, loader.batches(recipe.epochs), recipe.recalibrateBn);
        // Each rank re-estimated on its own shard; their average is what every rank keeps.
        parallel?.averageBatchNorm();
      }
      const test = await evaluate(model, data.test, numClasses, {
        batchSize: recipe.evalBatchSize,
        transforms: options.transforms.test,
        stats,
        workers: recipe.workers,
        onBatch: (done, total) => onEvent({ kind: 'eval', epoch, done, total }),
        shard,
      });
      checkFinite(model, test, runDir, epoch, lr);
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        trainLoss: trained.loss,
        trainTop1: trained.top1,
        testLoss: test.loss,
        testTop1: test.top1,
        testTop5: test.top5,
        seconds: (performance.now() - epochStart) / 1000,
        imagesPerSecond: trained.count / Math.max(trainSeconds, 1e-9),
        ...hooks.epochMetrics?.(epoch),
        ...comm,
      };
      final = test;
      history.push(record);
      if (writes) {
        await runDir.writeMetrics(history);
        await saveCheckpoint(runDir.lastCheckpoint, model, optimizer, { epoch: epoch + 1, step: globalStep, history });
      }
      onEvent({ kind: 'epoch', record, history: [...history], epochs: recipe.epochs });
    }
    // A resumed run whose epochs were all done evaluates once more for the per-class figures.
    if (final === undefined) {
      final = await evaluate(model, data.test, numClasses, { batchSize: recipe.evalBatchSize, transforms: options.transforms.test, stats, workers: recipe.workers, shard });
      checkFinite(model, final, runDir, recipe.epochs - 1, optimizer.lr);
    }
    // Summed per epoch, so a run resumed after an interruption reports the time of all its epochs.
    return { history, final, seconds: history.reduce((sum, r) => sum + r.seconds, 0) };
  } finally {
    restoreBatchNorm?.();
    await loader.close();
    optimizer.dispose();
  }
}
