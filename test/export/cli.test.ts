import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunModel } from '../../src/export/from-run.js';
import { weightLayers } from '../../src/nn/inspect.js';
import { loadModel } from '../../src/runtime/index.js';
import { uhpMask } from '../../src/sparsity/uhp.js';
import { noGrad, rand, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { loadModelFile, saveModelFile } from '../../src/train/model-file.js';
import { dst } from '../cli/run-cli.js';
import { relErr } from './models.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-export-'));
const run = path.join(work, 'run');
const pruned = path.join(work, 'pruned');

/** LibTorch's logits for images as toFloat leaves them, normalised the way the run's test pipeline does. */
async function libtorch(dir: string, images: Float32Array): Promise<Float32Array> {
  const { model, info } = await loadRunModel(dir);
  const { mean, std } = info.stats;
  const [c, h, w] = info.input;
  const x = images.map((v, i) => (v - mean[Math.floor(i / (h * w)) % c]!) / std[Math.floor(i / (h * w)) % c]!);
  try {
    return noGrad(() => tidy(() => model.eval().forward(tensor(x, [1, c, h, w])).data() as Float32Array));
  } finally {
    model.dispose();
  }
}

/**
 * A copy of the run pruned by magnitude to uhp:2:4:16, saved as pruned runs
 * are: masks and the pattern in the summary. The weights themselves keep their
 * values, as straight-through training leaves them; the masks must win.
 */
async function prune(from: string, to: string): Promise<void> {
  mkdirSync(to);
  const { model, info } = await loadModelFile(path.join(from, 'model.safetensors'));
  const masks = new Map<string, Tensor>();
  for (const layer of weightLayers(model)) {
    const w = layer.module.weight;
    const mask = uhpMask({ name: layer.name, kind: layer.kind, shape: [...w.shape], data: w.data() as Float32Array }, { kind: 'uhp', n: 2, m: 4, block: 16 });
    masks.set(`${layer.name}.weight_mask`, tensor(mask, [...w.shape], 'uint8'));
  }
  await saveModelFile(path.join(to, 'model.safetensors'), model, info, masks);
  for (const m of masks.values()) m.dispose();
  model.dispose();
  writeFileSync(path.join(to, 'summary.json'), JSON.stringify({ name: 'pruned', pattern: 'uhp:2:4:16' }));
  copyFileSync(path.join(from, 'recipe.yaml'), path.join(to, 'recipe.yaml'));
}

beforeAll(async () => {
  const r = dst(['train', '--model', 'resnet8x4', '--data', 'synthetic:size=16,trainPerClass=24,testPerClass=8', '--epochs', '1', '--batch-size', '32', '--threads', '1', '--workers', '0', '--out', run]);
  expect(r.code, r.stderr).toBe(0);
  await prune(run, pruned);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function oneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

describe('dst export', () => {
  const image = tidy(() => rand([1 * 16 * 16]).data() as Float32Array);

  it('writes a .uhp whose engine output, preprocessing included, matches LibTorch', async () => {
    const out = path.join(work, 'dense.uhp');
    const r = dst(['export', '--run', run, '--format', 'uhp', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*dense\.uhp: .* resnet8x4 1x16x16 -> 10 classes/);
    const engine = await loadModel(out);
    try {
      expect(relErr(engine.run(image), await libtorch(run, image))).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });

  it('writes ONNX that onnxruntime runs to LibTorch output', async () => {
    const out = path.join(work, 'model.onnx');
    const r = dst(['export', '--run', pruned, '--format', 'onnx', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ONNX has no N:M format; the uhp:2:4:16 layers are stored dense/);
    const { model, info } = await loadRunModel(pruned);
    const { mean, std } = info.stats;
    const x = image.map((v) => (v - mean[0]!) / std[0]!);
    const want = noGrad(() => tidy(() => model.eval().forward(tensor(x, [1, 1, 16, 16])).data() as Float32Array));
    model.dispose();
    const session = await ort.InferenceSession.create(out);
    const got = await session.run({ input: new ort.Tensor('float32', x, [1, 1, 16, 16]) });
    await session.release();
    expect(relErr(got[session.outputNames[0]!]!.data as Float32Array, want)).toBeLessThan(1e-4);
  });

  it("exports a pruned run with its own pattern: compact, and still LibTorch's output", async () => {
    const out = path.join(work, 'pruned.uhp');
    const r = dst(['export', '--run', pruned, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/uhp:2:4:16 on 11 layers/);
    const ratio = Number(/\(([\d.]+)x the dense fp32 weights\)/.exec(r.stdout)?.[1]);
    expect(ratio).toBeLessThanOrEqual(0.55);
    const engine = await loadModel(out);
    try {
      expect(relErr(engine.run(image), await libtorch(pruned, image))).toBeLessThan(1e-4);
    } finally {
      engine.dispose();
    }
  });

  it('refuses a pattern the weights do not satisfy, a bad spec and a missing run, each in one line, writing nothing', () => {
    const before = readdirSync(work).sort();
    oneLineError(dst(['export', '--run', run, '--pattern', 'uhp:2:4:16', '--out', path.join(work, 'x.uhp')]), /^dst: error: the weights do not satisfy uhp:2:4:16 .*conv1: .* hold \d non-zeros/);
    oneLineError(dst(['export', '--run', run, '--pattern', 'uhp:3', '--out', path.join(work, 'x.uhp')]), /^dst: error: --pattern: 'uhp:3': M must be one of/);
    oneLineError(dst(['export', '--run', path.join(work, 'nope'), '--out', path.join(work, 'x.uhp')]), /^dst: error: run: .*nope holds no model\.safetensors/);
    expect(readdirSync(work).sort()).toEqual(before);
    expect(existsSync(path.join(work, 'x.uhp'))).toBe(false);
  });
});

describe('dst bench', () => {
  it('measures the float and int8 rows side by side and says how the UHP and int8 rows were made', () => {
    const r = dst(['bench', '--run', run, '--runs', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.rows.map((row: { name: string }) => row.name)).toEqual([
      'LibTorch dense',
      'onnxruntime dense',
      'engine dense',
      'engine unstructured 50% (CSR)',
      'engine UHP uhp:2:4:16',
      'engine int8 dense',
      'engine int8 UHP uhp:2:4:16',
      'onnxruntime int8 (QDQ)',
    ]);
    expect(result.rows[0].speedupVsLibtorch).toBe(1);
    expect(result.rows.every((row: { ms: number; p90Ms: number; bytes: number }) => row.ms > 0 && row.p90Ms >= row.ms && row.bytes > 0)).toBe(true);
    expect(result.notes.join(' ')).toMatch(/model has no UHP layers: the engine UHP row prunes it by magnitude to uhp:2:4:16/);
    expect(typeof result.cpu).toBe('string');
  });

  it('benchmarks a .uhp file, in a table: LibTorch and onnxruntime run its graph, the UHP row is the file', () => {
    const r = dst(['bench', '--model', path.join(work, 'pruned.uhp'), '--runs', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/batch 1, 1 thread, median of 5 runs, rows taking turns of 20$/m);
    expect(r.stdout).toMatch(/^CPU: /m);
    expect(r.stdout).toMatch(/^LibTorch dense +[\d.]+ ms +[\d.]+ ms +1\.00x .* -$/m);
    // The file's own pattern, not a magnitude-pruned stand-in.
    expect(r.stdout).toMatch(/^engine UHP uhp:2:4:16 +[\d.]+ ms/m);
    expect(r.stdout).not.toMatch(/no UHP layers/);
    expect(r.stdout).not.toMatch(/per layer/);
    oneLineError(dst(['bench', '--run', run, '--model', path.join(work, 'pruned.uhp')]), /give exactly one of --run <dir> and --model <file.uhp>/);
  });

  it('--layers adds where the time goes: every layer of engine dense against engine UHP, in the table and in JSON', () => {
    const table = dst(['bench', '--model', path.join(work, 'pruned.uhp'), '--runs', '5', '--layers']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^per layer: engine dense against engine UHP, median ms per inference over 5 more runs each in turns of 20 \(medians do not add up to the row latency\)$/m);
    expect(table.stdout).toMatch(/^layer +op +dense kernel +dense ms +UHP kernel +UHP MMACs +UHP ms +speedup$/m);
    expect(table.stdout).toMatch(/ conv +dense16 +[\d.]+ +sparse16 +[\d.]+ +[\d.]+ +[\d.]+x$/m);
    expect(table.stdout).toMatch(/^total +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+x$/m);
    const json = JSON.parse(dst(['bench', '--model', path.join(work, 'pruned.uhp'), '--runs', '5', '--layers', '--json']).stdout);
    const convs = json.layers.filter((l: { op: string }) => l.op === 'conv');
    expect(convs.length).toBeGreaterThan(0);
    for (const l of convs) {
      expect(l.dense.kernel).toBe('dense16');
      expect(l.uhp.macs).toBeLessThan(l.dense.macs);
    }
  });
});
