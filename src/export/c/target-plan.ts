/**
 * The engine's plan of a graph for a C target, asked through the binding:
 * the same planner and packer the engine runs on, told what the target's
 * kernels have and whether its weights must be compact.
 */
import { nativeEngine, TARGET_COMPACT, TARGET_NO_ROWS8, type NativePlan } from '../../runtime/native.js';
import type { Graph } from '../ir.js';
import { writeUhp } from '../uhp-writer.js';
import type { CTarget } from './targets.js';

/** Microcontroller targets: compact weights (flash) and bands (RAM); NEON's kernel set has no rows8. */
function targetFlags(target: CTarget): number {
  if (target === 'cortex-m' || target === 'qemu-m7') return TARGET_COMPACT | TARGET_NO_ROWS8;
  return target === 'neon' ? TARGET_NO_ROWS8 : 0;
}

/** Plans with the scalar set, which every build has: a plan depends on the target's flags, not on this CPU. */
export function targetPlan(graph: Graph, target: CTarget): NativePlan {
  const native = nativeEngine();
  const handle = native.load(writeUhp(graph), 'scalar', 1, targetFlags(target));
  try {
    return native.plan(handle);
  } finally {
    native.dispose(handle);
  }
}
