/**
 * Post-training calibration: the float graph runs on LibTorch over images the
 * network takes (preprocessed), and every value's range is recorded. Minmax
 * needs one pass; the histogram methods a second, binned over the first
 * pass's extremes.
 */
import { ConfigError } from '../errors.js';
import { compileGraph } from '../export/run-graph.js';
import type { Graph, Shape3 } from '../export/ir.js';
import { tidy } from '../torch/scope.js';
import { noGrad, tensor, type Tensor } from '../torch/tensor.js';
import { inferShapes } from '../export/uhp-shapes.js';
import { mseRange, percentileRange, RangeHistogram, type CalibrationMethod } from './ranges.js';

export interface CalibrationSet {
  /** Network inputs (cropped and normalised as the test pipeline does), NCHW float32. */
  images: Float32Array;
  count: number;
  /** [C, H, W] of one image. */
  shape: Shape3;
  /** Class count of the data the images come from; checked against the model's outputs when given. */
  classes?: number;
}

export interface CalibrationOptions {
  method: CalibrationMethod;
  /** For 'percentile': the share of samples kept on each side (default 99.99). */
  percentile?: number;
  batchSize?: number;
  /** Values that keep their whole calibrated range whatever the method (the logits: see quantizeGraph). */
  fullRange?: ReadonlySet<string>;
  /** Names the calibration data in errors, e.g. the CLI option it came from. */
  label?: string;
  /** Images done of the current pass over the set; minmax takes one pass, the histogram methods two. */
  onProgress?: (done: number, total: number, pass: number, passes: number) => void;
}

export const DEFAULT_PERCENTILE = 99.99;

/** Refuses images the graph cannot take, or data of another class count, naming `label`. */
export function checkCalibrationSet(graph: Graph, set: CalibrationSet, label: string): void {
  if (set.shape.join('x') !== graph.inputShape.join('x')) {
    throw new ConfigError(label, `images are ${set.shape.join('x')} after preprocessing, the model takes ${graph.inputShape.join('x')}`);
  }
  if (!Number.isInteger(set.count) || set.count < 1) throw new ConfigError(label, `needs at least one image, got ${set.count}`);
  if (set.images.length !== set.count * set.shape[0] * set.shape[1] * set.shape[2]) {
    throw new ConfigError(label, `${set.images.length} floats do not hold ${set.count} images of ${set.shape.join('x')}`);
  }
  const outputs = (inferShapes(graph).get(graph.output) ?? []).reduce((a, b) => a * b, 1);
  if (set.classes !== undefined && set.classes !== outputs) {
    throw new ConfigError(label, `the data has ${set.classes} classes, the model outputs ${outputs} scores`);
  }
}

/** Runs the float graph over the set in batches, handing each wanted value's batch tensor to `visit`. */
function sweep(graph: Graph, set: CalibrationSet, wanted: ReadonlySet<string>, batchSize: number, visit: (name: string, t: Tensor) => void, onBatch: (n: number) => void): void {
  const compiled = compileGraph(graph);
  const per = set.shape[0] * set.shape[1] * set.shape[2];
  try {
    for (let start = 0; start < set.count; start += batchSize) {
      const n = Math.min(batchSize, set.count - start);
      noGrad(() =>
        tidy(() => {
          const x = tensor(set.images.subarray(start * per, (start + n) * per), [n, ...set.shape]);
          compiled.forward(x, (name, t) => {
            if (wanted.has(name)) visit(name, t);
          });
        }),
      );
      onBatch(n);
    }
  } finally {
    compiled.dispose();
  }
}

/** The clipping range [lo, hi] of each named value (graph input or node output) over the calibration set. */
export function calibrateRanges(graph: Graph, set: CalibrationSet, values: readonly string[], options: CalibrationOptions): Map<string, [number, number]> {
  const label = options.label ?? 'calibration';
  checkCalibrationSet(graph, set, label);
  const percentile = options.percentile ?? DEFAULT_PERCENTILE;
  if (!(percentile > 50 && percentile <= 100)) throw new ConfigError(`${label} percentile`, `expected a number in (50, 100], got ${percentile}`);
  const batchSize = options.batchSize ?? 32;
  const wanted = new Set(values);
  const passes = options.method === 'minmax' ? 1 : 2;
  let done = 0;
  const onBatch = (n: number) => {
    done += n;
    const pass = Math.ceil(done / set.count);
    options.onProgress?.(done - (pass - 1) * set.count, set.count, pass, passes);
  };
  const extremes = new Map<string, [number, number]>(values.map((v) => [v, [Infinity, -Infinity]]));
  sweep(graph, set, wanted, batchSize, (name, t) => {
    const r = extremes.get(name)!;
    const [min, max] = tidy(() => [t.min().item(), t.max().item()]);
    r[0] = Math.min(r[0], min);
    r[1] = Math.max(r[1], max);
  }, onBatch);
  if (options.method === 'minmax') return extremes;

  const histograms = new Map(values.map((v) => [v, new RangeHistogram(...extremes.get(v)!)]));
  sweep(graph, set, wanted, batchSize, (name, t) => histograms.get(name)!.add(t.data() as Float32Array), onBatch);
  return new Map(values.map((v) => {
    const h = histograms.get(v)!;
    if (options.fullRange?.has(v)) return [v, extremes.get(v)!];
    return [v, options.method === 'mse' ? mseRange(h) : percentileRange(h, percentile)];
  }));
}
