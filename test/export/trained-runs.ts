/** Tiny runs trained through the CLI, and their test split as the engine and LibTorch each take it. */
import * as path from 'node:path';
import { openData, Pipeline } from '../../src/data/index.js';
import { Rng } from '../../src/data/rng.js';
import { noGrad, tensor, tidy } from '../../src/torch/index.js';
import { loadModelFile } from '../../src/train/model-file.js';
import { dstOk, dstOkAsync } from '../cli/run-cli.js';

export const DATA = 'synthetic:size=16,trainPerClass=24,testPerClass=8';
const common = ['--data', DATA, '--batch-size', '32', '--threads', '1', '--workers', '0'];

/** Trains `<dir>/dense` (resnet20, 1 epoch) and prunes it to each pattern into `<dir>/<name>`. */
export async function trainRuns(dir: string, pruned: Record<string, string>): Promise<void> {
  const dense = path.join(dir, 'dense');
  await dstOkAsync(['train', '--model', 'resnet20', '--epochs', '1', ...common, '--out', dense]);
  for (const [name, pattern] of Object.entries(pruned)) {
    await dstOkAsync(['distill', '--method', 'prune', '--init', dense, '--student', 'resnet20', '--prune-epochs', '1', '--gradual-epochs', '0', '--sparsity', pattern, ...common, '--out', path.join(dir, name)]);
  }
}

/** `dst export` of a run; returns its stdout. */
export function exportRun(run: string, out: string, format: 'uhp' | 'c' = 'uhp', extra: string[] = []): string {
  return dstOk(['export', '--run', run, '--format', format, '--out', out, ...extra]);
}

export interface TestSplit {
  count: number;
  labels: Int32Array;
  /** Raw 8-bit pixels, one CHW image after another. */
  pixels: Uint8Array;
  /** What an exported model without --crop-from reads: the test pipeline up to, not including, normalize. */
  engineInput: Float32Array;
  /** What the network reads: the whole test pipeline. */
  networkInput: Float32Array;
  shape: [number, number, number];
}

/** The run's test split through its own test transforms. */
export async function testSplit(run: string): Promise<TestSplit> {
  const { model, info } = await loadModelFile(path.join(run, 'model.safetensors'));
  model.dispose();
  const { test } = await openData(DATA, { cacheDir: false });
  if (!(test.images instanceof Uint8Array)) throw new Error('synthetic images are expected as 8-bit pixels');
  const input = { channels: test.channels, height: test.height, width: test.width, dtype: 'uint8' as const };
  const full = new Pipeline(info.transforms, input, info.stats);
  const unnormalised = new Pipeline(info.transforms.filter((t) => t.op !== 'normalize'), input);
  const per = info.input.reduce((a, b) => a * b, 1);
  const networkInput = new Float32Array(test.length * per);
  const engineInput = new Float32Array(test.length * per);
  for (let i = 0; i < test.length; i++) {
    const { image } = test.get(i);
    full.apply(image, new Rng(i), networkInput, i * per);
    unnormalised.apply(image, new Rng(i), engineInput, i * per);
  }
  return { count: test.length, labels: test.labels, pixels: test.images, engineInput, networkInput, shape: info.input };
}

/** LibTorch's logits for the whole split: the run's model file in eval mode under noGrad. */
export async function libtorchLogits(run: string, split: TestSplit): Promise<Float32Array> {
  const { model } = await loadModelFile(path.join(run, 'model.safetensors'));
  try {
    model.eval();
    return noGrad(() => tidy(() => model.forward(tensor(split.networkInput, [split.count, ...split.shape])).data() as Float32Array));
  } finally {
    model.dispose();
  }
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
