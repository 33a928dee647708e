/** dst distill with quantization-aware epochs (recipe key quant), then dst export --quantize int8 with the ranges they trained with. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readUhp } from '../../src/export/read-uhp.js';
import { readSafetensors } from '../../src/nn/safetensors.js';
import { dst, dstAsync } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-distill-quant-'));
const common = ['--data', 'synthetic:size=16,trainPerClass=24,testPerClass=8', '--batch-size', '32', '--threads', '1', '--workers', '0'];
const teacher = path.join(work, 'teacher');
const out = path.join(work, 'dst');
const student = ['distill', '--method', 'dst', '--teacher', teacher, '--student', 'resnet20', ...common, '--epochs', '1', '--prune-epochs', '1', '--gradual-epochs', '0', '--sparsity', 'uhp:2:4:16', '--out', out];

const json = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const metrics = (): Record<string, number>[] => readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('quantization-aware epochs', () => {
  it('fine-tune the pruned student fake-quantized, record the ranges, and export int8 with them', async () => {
    expect(dst(['train', '--model', 'resnet8x4', ...common, '--epochs', '1', '--out', teacher]).code).toBe(0);
    const r = await dstAsync([...student, '--quant-epochs', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^calibrating int8 \(mse\) on 240 training images, pass 2\/2: 240 done$/m);
    expect(r.stderr).toMatch(/^epoch 2\/2 .* qat 1\.000 /m);
    expect(r.stderr.match(/^training /gm)).toHaveLength(2);
    const summary = json<{ epochs: number; top1: number; uniform: boolean; quant: { epochs: number; lr: number; floatTop1: number; ranges: string } }>(path.join(out, 'summary.json'));
    expect(summary.epochs).toBe(2);
    expect(summary.quant).toMatchObject({ epochs: 1, lr: 0.0005, ranges: 'quant-ranges.json' });
    expect(summary.uniform).toBe(true);
    const history = metrics();
    expect(history.map((m) => m.qat)).toEqual([undefined, 1]);
    expect(summary.quant.floatTop1).toBe(history[0]!.testTop1);
    expect(summary.top1).toBe(history[1]!.testTop1);
    // Masks fixed: every pruned weight is exactly zero in the fine-tuned model.
    const { tensors } = await readSafetensors(path.join(out, 'model.safetensors'));
    let masked = 0;
    for (const [key, mask] of tensors) {
      if (!key.endsWith('.weight_mask')) continue;
      const weight = tensors.get(key.replace(/_mask$/, ''))!.data as Float32Array;
      (mask.data as Float32Array).forEach((m, i) => {
        if (m === 0) {
          expect(Math.abs(weight[i]!)).toBe(0);
          masked++;
        }
      });
    }
    expect(masked).toBeGreaterThan(1000);

    const file = path.join(work, 'dst-int8.uhp');
    const exported = dst(['export', '--run', out, '--out', file, '--quantize', 'int8']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/int8 with the ranges its quantization-aware epochs trained with \(quant-ranges\.json: mse on 240 images\)/);
    expect(exported.stderr).not.toMatch(/calibrating/);
    const ranges = json<{ values: Record<string, { scale: number; zeroPoint: number }> }>(path.join(out, 'quant-ranges.json'));
    const graph = readUhp(readFileSync(file), file);
    expect(graph.quant!.values).toEqual(ranges.values);
    // The engine's int8 model is what the fake-quantized epochs evaluated: the same top-1, up to an image on a rounding edge.
    const evaluated = dst(['eval', '--run', out, '--uhp', file, '--threads', '1', '--json']);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const engine = (JSON.parse(evaluated.stdout) as { engine: { int8: boolean; top1: number; count: number } }).engine;
    expect(engine.int8).toBe(true);
    expect(Math.abs(engine.top1 - summary.top1)).toBeLessThanOrEqual(1 / engine.count + 1e-9);
    // An explicit calibration option wins, and says so.
    const recalibrated = dst(['export', '--run', out, '--out', path.join(work, 'recal.uhp'), '--quantize', 'int8', '--calibration', '16']);
    expect(recalibrated.code, recalibrated.stderr).toBe(0);
    expect(recalibrated.stdout).toMatch(/^note: a --calibration option is given, so the ranges are calibrated anew instead of taken from .*quant-ranges\.json/m);
    expect(recalibrated.stdout).toMatch(/int8 calibrated \(mse\) on 16 images/);
  }, 120_000);

  it('resume inside the quantized epochs with the recorded ranges and settings, and refuse changed quant settings unless allowed', async () => {
    // Without --config the run's own recipe.yaml gives every setting: only the change is on the command line.
    const refused = dst(['distill', '--out', out, '--resume', '--quant-epochs', '2']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^dst: error: .*recipe\.yaml: the run was started with other settings \(settings\.quant\.epochs 1 -> 2\)/m);
    const wrongCommand = dst(['train', '--out', out, '--resume']);
    expect(wrongCommand.code).toBe(1);
    expect(wrongCommand.stderr).toBe(`dst: error: --resume: ${out} is a run of dst distill; resume it with dst distill --out ${out} --resume\n`);
    const before = readFileSync(path.join(out, 'quant-ranges.json'), 'utf8');
    const r = await dstAsync(['distill', '--out', out, '--resume', '--quant-epochs', '2', '--quant-schedule', 'cosine', '--allow-changes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^resuming at epoch 3\/3$/m);
    expect(r.stderr).not.toMatch(/calibrating/);
    expect(readFileSync(path.join(out, 'quant-ranges.json'), 'utf8')).toBe(before);
    const history = metrics();
    expect(history.map((m) => m.qat)).toEqual([undefined, 1, 1]);
    // The cosine runs over the two quantized epochs: at the last step of the second, near zero (the constant rate was 0.0005).
    expect(history[1]!.lr).toBe(0.0005);
    expect(history[2]!.lr).toBeLessThan(0.0005 * 0.05);
    const summary = json<{ epochs: number; quant: { schedule: string } }>(path.join(out, 'summary.json'));
    expect(summary.epochs).toBe(3);
    expect(summary.quant.schedule).toBe('cosine');
    expect(readFileSync(path.join(out, 'changes.jsonl'), 'utf8')).toMatch(/"key":"settings\.quant\.schedule","to":"cosine"/);
  }, 120_000);

  it('end a dense method too, whose float student is what a pruning run started from it starts from', async () => {
    const kd = path.join(work, 'kd');
    const r = await dstAsync(['distill', '--method', 'kd', '--teacher', teacher, '--student', 'resnet20', ...common, '--epochs', '1', '--quant-epochs', '1', '--quant-lr', '0.001', '--out', kd]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ quant: { lr: number } }>(path.join(kd, 'summary.json')).quant.lr).toBe(0.001);
    rmSync(path.join(kd, 'float.safetensors'));
    const pruned = dst(['distill', '--method', 'prune', '--init', kd, '--student', 'resnet20', ...common, '--prune-epochs', '1', '--gradual-epochs', '0', '--out', path.join(work, 'prune')]);
    expect(pruned.code).not.toBe(0);
    expect(pruned.stderr).toMatch(/float\.safetensors: no such file/);
  }, 120_000);
});
