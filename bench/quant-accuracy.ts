/**
 * Post-training int8 against float on a run's held-out test split: top-1 of
 * the float graph (LibTorch) and of the int8 model through the integer
 * reference (src/quant/reference.ts, the arithmetic every engine reproduces
 * bit for bit), and how often the two predict the same class, for each
 * calibration method and calibration set size.
 * Run: npx vite-node bench/quant-accuracy.ts --run runs/mstar/dst [--run ...] [--calibration 512] [--methods minmax,percentile,mse] [--test 0]
 * (--test N: N test images spread evenly over the split; 0: all.)
 */
import { openData } from '../src/data/open.js';
import { Pipeline } from '../src/data/transforms.js';
import { Rng } from '../src/data/rng.js';
import { describePatterns, graphOfRun } from '../src/export/from-run.js';
import { compileGraph } from '../src/export/run-graph.js';
import type { Graph } from '../src/export/ir.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../src/quant/ranges.js';
import { quantizeGraph } from '../src/quant/quantize.js';
import { runInt8 } from '../src/quant/reference.js';
import { runCalibrationSet } from '../src/quant/run-data.js';
import { loadModelFile } from '../src/train/model-file.js';
import { engineTransforms } from '../src/train/engine-eval.js';
import { RunDir } from '../src/train/run-dir.js';
import { noGrad, tensor, tidy } from '../src/torch/index.js';
import { setNumThreads } from '../src/torch/threads.js';
import { machineLine } from './common.js';

function args(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === `--${name}` && process.argv[i + 1] ? [process.argv[i + 1]!] : []));
}
const one = (name: string, fallback: string): string => args(name)[0] ?? fallback;

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

interface Split {
  count: number;
  labels: Int32Array;
  /** What the network reads. */
  network: Float32Array;
  /** What the .uhp model (and so the int8 reference) reads: the test pipeline less what the file embeds. */
  engine: Float32Array;
}

async function testSplit(run: string, graph: Graph, limit: number): Promise<Split> {
  const { model, info } = await loadModelFile(new RunDir(run).model);
  model.dispose();
  const recipe = await new RunDir(run).readRecipe();
  const { test } = await openData(recipe.data as string, (recipe.dataOptions as object) ?? {});
  const input = { channels: test.channels, height: test.height, width: test.width, dtype: test.images instanceof Uint8Array ? ('uint8' as const) : ('float32' as const) };
  const full = new Pipeline(info.transforms, input, info.stats);
  const engine = new Pipeline(engineTransforms(info.transforms, graph.preprocess), input, info.stats);
  const count = limit > 0 ? Math.min(limit, test.length) : test.length;
  const per = info.input.reduce((a, b) => a * b, 1);
  const perEngine = engine.output.channels * engine.output.height * engine.output.width;
  const split: Split = { count, labels: new Int32Array(count), network: new Float32Array(count * per), engine: new Float32Array(count * perEngine) };
  for (let i = 0; i < count; i++) {
    const index = Math.floor((i * test.length) / count);
    const { image, label } = test.get(index);
    full.apply(image, new Rng(index), split.network, i * per);
    engine.apply(image, new Rng(index), split.engine, i * perEngine);
    split.labels[i] = label;
  }
  return split;
}

function floatPredictions(graph: Graph, split: Split): Int32Array {
  const compiled = compileGraph(graph);
  const per = split.network.length / split.count;
  const out = new Int32Array(split.count);
  try {
    for (let start = 0; start < split.count; start += 64) {
      const n = Math.min(64, split.count - start);
      const scores = noGrad(() => tidy(() => compiled.forward(tensor(split.network.subarray(start * per, (start + n) * per), [n, ...graph.inputShape])).data() as Float32Array));
      const classes = scores.length / n;
      for (let i = 0; i < n; i++) out[start + i] = argmax(scores.subarray(i * classes, (i + 1) * classes));
    }
  } finally {
    compiled.dispose();
  }
  return out;
}

function int8Predictions(graph: Graph, split: Split): Int32Array {
  const per = split.engine.length / split.count;
  const out = new Int32Array(split.count);
  for (let i = 0; i < split.count; i++) out[i] = argmax(runInt8(graph, split.engine.subarray(i * per, (i + 1) * per)).q);
  return out;
}

const pct = (n: number, of: number): string => `${((100 * n) / of).toFixed(2)}%`;
const correct = (pred: Int32Array, labels: Int32Array): number => pred.filter((p, i) => p === labels[i]).length;

setNumThreads(1);
const runs = args('run');
if (runs.length === 0) throw new Error('give --run <dir> (one or more)');
const methods = one('methods', CALIBRATION_METHODS.join(',')).split(',') as CalibrationMethod[];
const sizes = one('calibration', '512').split(',').map(Number);
const limit = Number(one('test', '0'));
console.log(machineLine());
for (const run of runs) {
  const { graph, info, pattern, patternLayers } = await graphOfRun(run);
  const split = await testSplit(run, graph, limit);
  const float = floatPredictions(graph, split);
  console.log(`\n${run}: ${info.model}, ${describePatterns(pattern, patternLayers)}, ${split.count} test images`);
  console.log(`float (LibTorch): top-1 ${pct(correct(float, split.labels), split.count)}`);
  console.log('| method | calibration images | int8 top-1 | vs float | same prediction as float | seconds (calibrate + run) |');
  console.log('|---|---|---|---|---|---|');
  for (const size of sizes) {
    const calibration = await runCalibrationSet(run, info, { count: size, label: '--calibration' });
    for (const method of methods) {
      const t0 = performance.now();
      const q = quantizeGraph(graph, calibration, { method });
      const int8 = int8Predictions(q, split);
      const seconds = (performance.now() - t0) / 1000;
      const delta = (100 * (correct(int8, split.labels) - correct(float, split.labels))) / split.count;
      const same = int8.filter((p, i) => p === float[i]).length;
      console.log(`| ${method} | ${calibration.count} | ${pct(correct(int8, split.labels), split.count)} | ${delta >= 0 ? '+' : ''}${delta.toFixed(2)} pt | ${pct(same, split.count)} (${split.count - same} differ) | ${seconds.toFixed(1)} |`);
    }
  }
}
