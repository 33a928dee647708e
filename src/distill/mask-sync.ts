/**
 * Data-parallel pruning: every rank re-chooses its masks from the same
 * weights, so they agree already; broadcasting rank 0's after each re-choice
 * makes that a guarantee rather than an assumption (a tie broken differently
 * would otherwise let the ranks' models drift apart unnoticed).
 */
import { maskUpdateDue } from '../sparsity/schedule.js';
import type { PruningController } from '../sparsity/training.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { broadcastTensors } from '../train/data-parallel.js';

/** A function for the step after `afterStep`: broadcasts the masks when the controller re-chose them at `next`. */
export function masksFromRoot(group: ProcessGroup, controller: PruningController): (next: number) => void {
  return (next) => {
    const due = next >= controller.rampSteps || maskUpdateDue({ every: controller.schedule.updateEvery, until: controller.rampSteps }, next);
    if (!due) return;
    const masks = controller.layers.map((l) => l.module.weightMask).filter((m) => m !== null);
    broadcastTensors(group, masks);
    // Fixing the masks zeroed the pruned weights with this rank's masks; again with rank 0's.
    if (controller.fixed) for (const l of controller.layers) l.module.applyMaskToWeight();
  };
}
