import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUhp } from '../../src/export/read-uhp.js';
import { runInt8 } from '../../src/quant/reference.js';
import { dst } from '../cli/run-cli.js';
import { bytes, encodeImage, writeFile } from '../data/formats.js';
import { argmax, DATA, libtorchLogits, testSplit, type TestSplit } from '../export/trained-runs.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-quant-cli-'));
const run = path.join(work, 'run');
let split: TestSplit;

/** A 3-class image folder of 16x16 gray chips: calibration data of the wrong class count. */
async function threeClasses(dir: string): Promise<void> {
  for (const split of ['train', 'test']) {
    for (const cls of ['a', 'b', 'c']) {
      for (let i = 0; i < 2; i++) await writeFile(path.join(dir, split, cls, `${i}.png`), await encodeImage(bytes(256, i + 7), 1, 16, 16, 'png'));
    }
  }
}

beforeAll(async () => {
  const r = dst(['train', '--model', 'resnet8x4', '--data', DATA, '--epochs', '1', '--batch-size', '32', '--threads', '1', '--workers', '0', '--out', run]);
  expect(r.code, r.stderr).toBe(0);
  split = await testSplit(run);
  await threeClasses(path.join(work, 'three'));
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const rowsOf = (scores: Float32Array, count: number) => Array.from({ length: count }, (_, n) => argmax(scores.subarray((n * scores.length) / count, ((n + 1) * scores.length) / count)));

describe('dst export --quantize int8', () => {
  it('writes a version-2 .uhp whose integer reference predicts as the float model', async () => {
    const out = path.join(work, 'int8.uhp');
    const r = dst(['export', '--run', run, '--out', out, '--quantize', 'int8', '--calibration', '48', '--calibration-method', 'minmax']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*int8\.uhp: .*resnet8x4 1x16x16 -> 10 classes, \d+ nodes, int8 calibrated \(minmax\) on 48 images/);
    expect(r.stderr).toMatch(/calibrating int8 \(minmax\) on 48 training images of synthetic:.*pass 1\/1: 48 done/);
    const graph = readUhp(new Uint8Array(readFileSync(out)), out);
    expect(graph.quant?.kind).toBe('int8');
    // The integer reference is slow: the first 24 test images.
    const count = 24;
    const int8 = rowsOf(runInt8(graph, split.engineInput.subarray(0, (count * split.engineInput.length) / split.count), count).scores, count);
    const float = rowsOf(await libtorchLogits(run, split), split.count).slice(0, count);
    const same = int8.filter((p, i) => p === float[i]).length;
    // Measured: 24/24.
    expect(same).toBeGreaterThanOrEqual(count - 1);
  }, 60_000);

  it('writes an ONNX QDQ model that onnxruntime runs to the same predictions', async () => {
    const out = path.join(work, 'int8.onnx');
    const r = dst(['export', '--run', run, '--out', out, '--format', 'onnx', '--quantize', 'int8', '--calibration', '48']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*int8\.onnx: ONNX opset 13 in QDQ form .*int8 calibrated \(mse\) on 48 images/);
    const session = await ort.InferenceSession.create(readFileSync(out), { intraOpNumThreads: 1 });
    const res = await session.run({ input: new ort.Tensor('float32', split.networkInput, [split.count, ...split.shape]) });
    await session.release();
    const onnx = rowsOf(res[session.outputNames[0]!]!.data as Float32Array, split.count);
    const float = rowsOf(await libtorchLogits(run, split), split.count);
    // Measured: 80/80.
    expect(onnx.filter((p, i) => p === float[i]).length).toBeGreaterThanOrEqual(0.95 * split.count);
  }, 60_000);

  const bad: [string, string[], RegExp][] = [
    ['an unknown --quantize', ['--quantize', 'int4'], /^dst: error: --quantize: expected 'int8', got 'int4'$/],
    ['--calibration without --quantize', ['--calibration', '64'], /^dst: error: --calibration: only applies with --quantize int8$/],
    ['--calibration 0', ['--quantize', 'int8', '--calibration', '0'], /^dst: error: --calibration: expected a positive integer, got '0'$/],
    ['an unknown method', ['--quantize', 'int8', '--calibration-method', 'kl'], /^dst: error: --calibration-method: expected 'minmax', 'percentile', 'mse', got 'kl'$/],
    ['calibration images of another size', ['--quantize', 'int8', '--calibration-data', 'synthetic:size=20'], /^dst: error: --calibration-data: synthetic:size=20 images are 1x20x20 after the run's test pipeline, the model takes 1x16x16$/],
  ];
  for (const [label, args, message] of bad) {
    it(`refuses ${label} with one line and writes nothing`, () => {
      const out = path.join(work, 'bad.uhp');
      const r = dst(['export', '--run', run, '--out', out, ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('refuses calibration data of another class count, naming the option', () => {
    const out = path.join(work, 'bad.uhp');
    const r = dst(['export', '--run', run, '--out', out, '--quantize', 'int8', '--calibration-data', `folder:${path.join(work, 'three')}?cacheDir=false`]);
    expect(r.code).toBe(1);
    // Reading the folder may draw progress lines first; the failure is one line.
    const errors = r.stderr.trim().split('\n').filter((line) => line.startsWith('dst: error'));
    expect(errors).toEqual(['dst: error: --calibration-data: the data has 3 classes, the model outputs 10 scores']);
    expect(existsSync(out)).toBe(false);
  });
});
