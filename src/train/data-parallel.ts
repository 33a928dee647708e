/**
 * Data-parallel training over a process group, as PyTorch's DDP does it:
 * rank 0's model everywhere at the start, then after every backward pass one
 * all-reduce per bucket of flattened gradients, so every rank applies the
 * same averaged gradient and the weights stay bit-identical. LibTorch's
 * autograd gives the addon no per-parameter hook, so the all-reduce follows
 * the backward pass instead of overlapping it.
 */
import { BatchNorm2d } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { ProcessGroup } from '../torch/distributed.js';
import type { SGD } from '../torch/optim.js';
import { tidy } from '../torch/scope.js';
import { cat, noGrad, tensor, zeros, type Tensor } from '../torch/tensor.js';

/** Largest bucket, in float32 elements (DDP's default of 25 MiB). */
const BUCKET_ELEMENTS = (25 * 1024 * 1024) / 4;

/** What one step's all-reduce carries besides the gradients: this rank's loss sum, image count and correct top-1 count. */
export interface StepTotals {
  lossSum: number;
  count: number;
  correct: number;
}

/** Per step: the all-reduce calls, their float32 elements, and milliseconds spent in them. */
export interface CommStats {
  steps: number;
  calls: number;
  bytes: number;
  ms: number;
}

export class DataParallel {
  readonly comm: CommStats = { steps: 0, calls: 0, bytes: 0, ms: 0 };
  readonly #norms: BatchNorm2d[];

  constructor(
    readonly group: ProcessGroup,
    model: Module,
  ) {
    this.#norms = [...model.namedModules()].map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  }

  get rank(): number {
    return this.group.rank;
  }

  get worldSize(): number {
    return this.group.worldSize;
  }

  /** Rank 0 writes the run folder; the others only compute. */
  get isRoot(): boolean {
    return this.group.rank === 0;
  }

  /**
   * Every parameter and buffer (BatchNorm statistics, pruning masks, counters)
   * takes rank 0's value: at the start, a fresh model or a resumed checkpoint
   * that only rank 0 read.
   */
  broadcastModel(model: Module): void {
    broadcastModule(this.group, model);
  }

  /** SGD momentum as rank 0 holds it (after rank 0 alone resumed from a checkpoint). */
  broadcastMomentum(optimizer: SGD): void {
    const present = this.group.shareFromRoot(optimizer.momentumBuffers().map((b) => b !== null));
    if (!this.isRoot) {
      const shells = optimizer.params.map((p, i) => (present[i] ? zeros(p.shape) : null));
      optimizer.loadMomentumBuffers(shells);
      for (const s of shells) s?.dispose();
    }
    broadcastTensors(
      this.group,
      optimizer.momentumBuffers().filter((b): b is Tensor => b !== null),
    );
  }

  /**
   * The step's gradients, summed over the ranks with each rank's weighted by
   * its share of the global batch (the loss is a mean over the rank's images,
   * so this is the gradient of the mean over the global batch), plus the
   * BatchNorm running statistics averaged (so they match what one process
   * would track, and stay identical everywhere), plus the step's totals.
   * A rank whose loss was not finite took no backward pass: it contributes
   * zeros and its NaN loss, so every rank sees the divergence at once.
   */
  reduceStep(params: readonly Tensor[], share: number, totals: StepTotals): StepTotals {
    const started = performance.now();
    const result = noGrad(() =>
      tidy(() => {
        const grads = params.map((p) => p.grad);
        const parts: Tensor[] = [
          ...params.map((p, i) => (grads[i] ?? zeros(p.shape)).flatten().mul(share)),
          ...this.#norms.flatMap((bn) => [bn.runningMean.mul(1 / this.worldSize), bn.runningVar.mul(1 / this.worldSize)]),
          tensor([totals.lossSum, totals.count, totals.correct], [3]),
        ];
        const buckets = bucketed(parts);
        for (const bucket of buckets) {
          this.group.allReduce([bucket]);
          this.comm.calls++;
          this.comm.bytes += bucket.size * 4;
        }
        const flat = buckets.length === 1 ? buckets[0]! : cat(buckets);
        let at = 0;
        const take = (size: number): Tensor => {
          const slice = flat.narrow(0, at, size);
          at += size;
          return slice;
        };
        params.forEach((p, i) => {
          const slice = take(p.size);
          grads[i]?.copy_(slice.view(p.shape));
        });
        for (const bn of this.#norms) {
          bn.runningMean.copy_(take(bn.runningMean.size));
          bn.runningVar.copy_(take(bn.runningVar.size));
        }
        const [lossSum, count, correct] = take(3).toArray() as [number, number, number];
        return { lossSum, count, correct };
      }),
    );
    this.comm.steps++;
    this.comm.ms += performance.now() - started;
    return result;
  }

  /**
   * The epoch's communication per step, for its metrics line: milliseconds in
   * the step's all-reduce (flattening and waiting for the slowest rank
   * included) and bytes this rank sent into it; then counts afresh.
   */
  takeCommStats(): { commMsPerStep: number; commBytesPerStep: number } {
    const { steps, ms, bytes } = this.comm;
    Object.assign(this.comm, { steps: 0, calls: 0, bytes: 0, ms: 0 });
    return { commMsPerStep: steps === 0 ? 0 : ms / steps, commBytesPerStep: steps === 0 ? 0 : bytes / steps };
  }

  /** BatchNorm running statistics averaged over the ranks (after each rank re-estimated them on its own shard). */
  averageBatchNorm(): void {
    const buffers = this.#norms.flatMap((bn) => [bn.runningMean, bn.runningVar]);
    if (buffers.length > 0) this.group.allReduce(buffers, { average: true });
  }

  /** Sums of plain numbers over the ranks (in float32, exact for counts below 2^24). */
  sum(values: readonly number[]): number[] {
    return tidy(() => {
      const t = tensor(Float32Array.from(values), [values.length]);
      this.group.allReduce([t]);
      return t.toArray();
    });
  }
}

/** Concatenates flattened parts into contiguous buckets of at most BUCKET_ELEMENTS (a larger part gets its own). */
function bucketed(parts: readonly Tensor[]): Tensor[] {
  const buckets: Tensor[] = [];
  let current: Tensor[] = [];
  let size = 0;
  const flush = (): void => {
    if (current.length > 0) buckets.push(current.length === 1 ? current[0]!.contiguous() : cat(current));
    current = [];
    size = 0;
  };
  for (const part of parts) {
    if (size > 0 && size + part.size > BUCKET_ELEMENTS) flush();
    current.push(part);
    size += part.size;
  }
  flush();
  return buckets;
}

/** Every parameter and buffer of `model` takes its value on rank 0. */
export function broadcastModule(group: ProcessGroup, model: Module): void {
  broadcastTensors(group, [...model.stateDict().values()]);
}

/** Broadcasts from rank 0 in place; non-float32 tensors (int64 counters) travel as float32 copies. */
export function broadcastTensors(group: ProcessGroup, tensors: readonly Tensor[]): void {
  if (tensors.length === 0) return;
  noGrad(() =>
    tidy(() => {
      const floats = tensors.map((t) => (t.dtype === 'float32' ? t : t.to('float32')));
      group.broadcast(floats, 0);
      tensors.forEach((t, i) => {
        if (floats[i] !== t) t.copy_(floats[i]!);
      });
    }),
  );
}
