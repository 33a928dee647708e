/** Calibration and test images for the hand-built graphs of test/engine/graphs.ts. */
import type { Graph } from '../../src/export/ir.js';
import type { CalibrationSet } from '../../src/quant/calibrate.js';
import { rng } from '../engine/graphs.js';

/** `count` images as the engine takes them ([C, H0, W0], values in [0, 1) like toFloat's). */
export function rawImages(graph: Graph, count: number, seed: number): Float32Array {
  const [C, H, W] = graph.inputShape;
  const [H0, W0] = graph.preprocess.cropFrom ?? [H, W];
  const rand = rng(seed);
  // Smooth images with a per-image gain: closer to photographs than white noise.
  const out = new Float32Array(count * C * H0 * W0);
  for (let n = 0; n < count; n++) {
    const gain = 0.5 + rand();
    const fx = 1 + 3 * rand();
    const fy = 1 + 3 * rand();
    for (let c = 0; c < C; c++) {
      const phase = 6 * rand();
      for (let i = 0; i < H0; i++) {
        for (let j = 0; j < W0; j++) {
          const v = 0.5 + 0.35 * gain * Math.sin(phase + (fx * i) / H0 * 3 + (fy * j) / W0 * 3) + 0.1 * (rand() - 0.5);
          out[((n * C + c) * H0 + i) * W0 + j] = Math.min(1, Math.max(0, v));
        }
      }
    }
  }
  return out;
}

/** The network inputs of raw images: centre crop and (v - mean) / std, as the test pipeline does. */
export function networkInputs(graph: Graph, raw: Float32Array, count: number): Float32Array {
  const [C, H, W] = graph.inputShape;
  const { cropFrom, mean, std } = graph.preprocess;
  const [H0, W0] = cropFrom ?? [H, W];
  const top = Math.floor((H0 - H) / 2);
  const left = Math.floor((W0 - W) / 2);
  const out = new Float32Array(count * C * H * W);
  for (let n = 0; n < count; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const v = raw[((n * C + c) * H0 + top + i) * W0 + left + j]!;
          out[((n * C + c) * H + i) * W + j] = (v - (mean?.[c] ?? 0)) / (std?.[c] ?? 1);
        }
  return out;
}

export function calibrationSet(graph: Graph, count: number, seed: number): CalibrationSet {
  return { images: networkInputs(graph, rawImages(graph, count, seed), count), count, shape: graph.inputShape };
}

/** The graph without its final softmax: int8 models return logits. */
export function logitsOnly(graph: Graph): Graph {
  const last = graph.nodes.at(-1)!;
  if (last.op !== 'softmax') return graph;
  return { ...graph, nodes: graph.nodes.slice(0, -1), output: last.input };
}

export const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};
