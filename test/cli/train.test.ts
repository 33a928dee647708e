import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dst } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-cli-'));
const data = 'synthetic:size=16,trainPerClass=24,testPerClass=8';
const common = ['--data', data, '--model', 'resnet8x4', '--batch-size', '32', '--threads', '1', '--workers', '0'];

describe('dst train / eval / info', () => {
  it('trains, writes every run file, resumes, and evaluates to the same numbers', () => {
    const out = path.join(work, 'run');
    const first = dst(['train', ...common, '--epochs', '1', '--out', out]);
    expect(first.stderr).toMatch(/epoch 1\/1 /);
    expect(first.code).toBe(0);
    for (const f of ['recipe.yaml', 'metrics.jsonl', 'model.safetensors', 'summary.json', 'checkpoints/last.safetensors']) {
      expect(existsSync(path.join(out, f))).toBe(true);
    }
    // A second call refuses to overwrite; --resume refuses other settings, even more epochs, unless the change is allowed and recorded.
    const again = dst(['train', ...common, '--epochs', '1', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^dst: error: --out: .* already holds a finished run/);
    const changed = dst(['train', ...common, '--epochs', '2', '--lr', '0.1', '--batch-size', '16', '--threads', '2', '--out', out, '--resume']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toBe(
      `dst: error: ${out}/recipe.yaml: the run was started with other settings (epochs 1 -> 2, batchSize 32 -> 16, optimizer.lr 0.05 -> 0.1); resume with the same ones, or pass --allow-changes to continue with these and record them in changes.jsonl\n`,
    );
    expect(readFileSync(path.join(out, 'recipe.yaml'), 'utf8')).toMatch(/epochs: 1\n/);
    const nothing = dst(['train', '--out', path.join(work, 'never-started'), '--resume']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe(`dst: error: --resume: ${path.join(work, 'never-started')} holds no recipe.yaml to resume from; give the --config or flags the run was started with\n`);
    // Without --config, --resume starts from the settings the run recorded: only the changed ones are given.
    const resumed = dst(['train', '--epochs', '2', '--out', out, '--resume', '--allow-changes']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at epoch 2\/2/);
    const changes = readFileSync(path.join(out, 'changes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ fromEpoch: 1, changes: [{ key: 'epochs', from: 1, to: 2 }] });
    const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2]);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.epochs).toBe(2);
    expect(summary.confusion).toHaveLength(10);
    expect(summary.layers.length).toBeGreaterThan(5);
    const evaluated = dst(['eval', '--run', out, '--json', '--threads', '1']);
    expect(evaluated.code).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result.top1).toBeCloseTo(summary.top1, 10);
    expect(result.count).toBe(80);
    const info = dst(['info', out]);
    expect(info.stdout).toMatch(/layer1\.0\.conv1/);
  });

  it('reads a recipe file and lets flags override it', () => {
    const recipe = path.join(work, 'recipe.yaml');
    writeFileSync(recipe, `model: resnet8x4\ndata: "${data}"\nepochs: 3\nbatchSize: 32\nthreads: 1\nworkers: 0\noptimizer:\n  lr: 0.02\n`);
    const out = path.join(work, 'from-recipe');
    const r = dst(['train', '--config', recipe, '--epochs', '1', '--out', out]);
    expect(r.code).toBe(0);
    const written = readFileSync(path.join(out, 'recipe.yaml'), 'utf8');
    expect(written).toMatch(/epochs: 1\n/);
    expect(written).toMatch(/lr: 0\.02\n/);
  });

  it('gives one clear line for bad input and writes nothing', () => {
    const out = path.join(work, 'bad');
    const cases: [string[], RegExp][] = [
      [['train', '--data', data, '--out', out], /^dst: error: model: /],
      [['train', ...common, '--model', 'resnet21', '--out', out], /^dst: error: model: unknown model 'resnet21'/],
      [['train', ...common, '--epochs', '0', '--out', out], /^dst: error: --epochs: expected a positive integer, got '0'/],
      [['train', ...common, '--schedule', 'linear', '--out', out], /^dst: error: schedule\.kind: /],
      [['train', ...common, '--data', 'imagenet:/x', '--out', out], /^dst: error: .*imagenet/],
      [['train', ...common, '--config', path.join(work, 'nope.yaml'), '--out', out], /^dst: error: .*nope\.yaml: no such recipe file/],
      [['train', ...common, '--model', 'aconvnet', '--out', out], /^dst: error: model: aconvnet cannot take 1x16x16 inputs/],
      [['eval', '--run', path.join(work, 'missing')], /^dst: error: .*missing: not a dst run directory/],
    ];
    for (const [args, message] of cases) {
      const r = dst(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
    const typo = path.join(work, 'typo.yaml');
    writeFileSync(typo, 'model: resnet20\ndata: synthetic\nepoch: 3\n');
    const r = dst(['train', '--config', typo, '--out', out]);
    expect(r.stderr).toMatch(/^dst: error: .*typo\.yaml: .*epoch/);
    rmSync(out, { recursive: true, force: true });
  }, 180_000);
});

describe('divergence', () => {
  it('stops on a NaN loss with one error line and leaves no model or summary', () => {
    const out = path.join(work, 'nan');
    const r = dst(['train', ...common, '--epochs', '3', '--lr', '1e12', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\ndst: error: loss became (NaN|Infinity|-Infinity) at epoch 1, step \d+; lower the learning rate/);
    expect(existsSync(path.join(out, 'model.safetensors'))).toBe(false);
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
  });

  it('stops when the training loss stays finite but the test loss turns NaN, and never reports it as accurate', () => {
    // One step at lr 1e30: the loss is read before the update, so only the evaluation sees the wrecked weights.
    const out = path.join(work, 'nan-test');
    const r = dst(['train', '--model', 'resnet8x4', '--data', 'synthetic:size=16,trainPerClass=10,testPerClass=2', '--threads', '1', '--workers', '0', '--epochs', '1', '--lr', '1e30', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\ndst: error: (test loss became NaN|weights became non-finite \(.+\)) after epoch 1; lower the learning rate/);
    expect(r.stderr).not.toMatch(/top1 100/);
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
    expect(existsSync(path.join(out, 'checkpoints', 'last.safetensors'))).toBe(false);
  });
});

describe('dst doctor / models', () => {
  it('reports the addon and the CPU', () => {
    const r = dst(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.torch.loaded).toBe(true);
    expect(report.torch.libtorch).toMatch(/^\d+\.\d+/);
    expect(report.cpu.model.length).toBeGreaterThan(0);
  });

  it('lists the zoo', () => {
    const r = dst(['models', '--json']);
    const models = JSON.parse(r.stdout);
    expect(models.find((m: { name: string }) => m.name === 'resnet20').params).toBe(272474);
  });
});
