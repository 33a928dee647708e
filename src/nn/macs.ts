import type { Tensor } from '../torch/tensor.js';

/**
 * Multiply-accumulate counting: while `countMacs` or `traceOutputPositions`
 * runs, conv2d and linear report each call. A closure keeps the cost at zero
 * when nothing is recording.
 */
interface Recorder {
  macs: number;
  positions: Map<Tensor, number>;
}

let recorder: Recorder | null = null;

/** Called by conv2d/linear: `weight` identifies the layer, `positions` is its output H·W per image (1 for linear). */
export function recordMacs(weight: Tensor, macs: () => number, positions: () => number): void {
  if (recorder === null) return;
  recorder.macs += macs();
  recorder.positions.set(weight, positions());
}

function record(fn: () => void): Recorder {
  const outer = recorder;
  const own: Recorder = { macs: 0, positions: new Map() };
  recorder = own;
  try {
    fn();
    return own;
  } finally {
    recorder = outer;
  }
}

export function countMacs(fn: () => void): number {
  return record(fn).macs;
}

/** Output positions (H·W per image) of every conv/linear weight used while `fn` runs. */
export function traceOutputPositions(fn: () => void): Map<Tensor, number> {
  return record(fn).positions;
}
