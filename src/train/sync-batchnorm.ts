/**
 * `syncBn: true`: every BatchNorm of a model normalises in training mode with
 * the statistics of the global batch, as PyTorch's convert_sync_batchnorm
 * does. The layers keep their class, parameters and state-dict keys (a run
 * trained this way saves, exports and resumes like any other); only their
 * training-mode forward is replaced, for the time of the training.
 */
import { BatchNorm2d } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { noGrad, type Tensor } from '../torch/tensor.js';

/** Installs the synchronised forward on every BatchNorm2d of `model`; returns the function that restores the layers' own. */
export function useSyncBatchNorm(model: Module, group: ProcessGroup): () => void {
  const norms = [...model.namedModules()].map(([, m]) => m).filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  for (const bn of norms) {
    const own = BatchNorm2d.prototype.forward;
    bn.forward = (x: Tensor): Tensor => {
      if (!bn.training) return own.call(bn, x);
      // As BatchNorm2d.forward: the counter, and momentum 1/count when momentum is null (a cumulative average).
      noGrad(() => bn.numBatchesTracked.add_(1));
      const momentum = bn.momentum ?? 1 / bn.numBatchesTracked.item();
      return group.syncBatchNorm(x, bn.weight, bn.bias, bn.runningMean, bn.runningVar, momentum, bn.eps);
    };
  }
  return () => {
    for (const bn of norms) delete (bn as { forward?: unknown }).forward;
  };
}
