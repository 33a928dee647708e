import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/index.js';
import { saveSafetensors } from '../../src/nn/index.js';
import { dst, dstAsync } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-distill-'));
const data = 'synthetic:size=16,trainPerClass=24,testPerClass=8';
const common = ['--data', data, '--batch-size', '32', '--threads', '1', '--workers', '0'];
const teacher = path.join(work, 'teacher');

describe('dst distill and dst pipeline', () => {
  it('trains a teacher, then distils and prunes a student to uniform 2:4', () => {
    expect(dst(['train', '--model', 'resnet8x4', ...common, '--epochs', '1', '--out', teacher]).code).toBe(0);
    const out = path.join(work, 'dst');
    const r = dst(['distill', '--method', 'dst', '--teacher', teacher, '--student', 'resnet20', ...common, '--epochs', '1', '--prune-epochs', '2', '--gradual-epochs', '1', '--sparsity', 'uhp:2:4:16', '--out', out]);
    expect(r.stderr).toMatch(/sparsity 0\.5/);
    expect(r.code).toBe(0);
    // The dense KD stage runs first, in its own run directory.
    expect(existsSync(path.join(out, 'dense', 'summary.json'))).toBe(true);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.method).toBe('dst');
    expect(summary.pattern).toBe('uhp:2:4:16');
    expect(summary.uniform).toBe(true);
    expect(summary.layers.every((l: { uniform: boolean }) => l.uniform)).toBe(true);
    expect(summary.sparsity).toBeGreaterThan(0.49);
    expect(summary.effectiveMacs).toBeLessThan(0.51 * summary.denseMacs);
    // Deployed through the C engine, the pruned student predicts exactly what LibTorch predicts.
    const file = path.join(work, 'dst.uhp');
    const exported = dst(['export', '--run', out, '--out', file]);
    expect(exported.code, exported.stderr).toBe(0);
    const evaluated = JSON.parse(dst(['eval', '--run', out, '--json', '--threads', '1', '--uhp', file]).stdout);
    expect(evaluated.top1).toBeCloseTo(summary.top1, 10);
    expect(evaluated.engine.samePredictions).toBe(evaluated.count);
    expect(evaluated.engine.top1).toBeCloseTo(evaluated.top1, 10);
  });

  it('prunes the cross-entropy student with --dst-start scratch', () => {
    const out = path.join(work, 'dst-from-scratch');
    const r = dst(['distill', '--method', 'dst', '--dst-start', 'scratch', '--teacher', teacher, '--student', 'resnet8x4', ...common, '--epochs', '1', '--prune-epochs', '1', '--gradual-epochs', '0', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'dense', 'summary.json'), 'utf8')).method).toBe('scratch');
    expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')).method).toBe('dst');
  });

  it('runs a pipeline, writes the comparison, and skips finished stages on a second call', async () => {
    const recipe = path.join(work, 'pipeline.yaml');
    writeFileSync(
      recipe,
      [
        `data: "${data}"`,
        'threads: 1',
        'workers: 0',
        'batchSize: 32',
        'teacher: {model: resnet8x4, epochs: 1}',
        'student: {model: resnet20, epochs: 1, prune: {epochs: 1, gradualEpochs: 0}}',
        'methods: [scratch, prune, kd]',
      ].join('\n'),
    );
    const out = path.join(work, 'pipe');
    const first = await dstAsync(['pipeline', recipe, '--out', out]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/\| prune \| resnet20 \|/);
    const rows = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
    expect(rows.map((r: { method: string }) => r.method)).toEqual(['teacher', 'scratch', 'kd', 'prune']);
    expect(rows[3].pattern).toBe('uhp:2:4');
    // prune started from the pipeline's own scratch run instead of training a dense stage again.
    expect(existsSync(path.join(out, 'prune', 'dense'))).toBe(false);
    const second = dst(['pipeline', recipe, '--out', out]);
    expect(second.code).toBe(0);
    expect(second.stderr.match(/finished earlier, skipped/g)).toHaveLength(4);
    // --force trains every stage again from its first epoch instead of resuming its finished checkpoint.
    const forced = await dstAsync(['pipeline', recipe, '--out', out, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).not.toMatch(/skipped|resuming/);
    expect(forced.stderr.match(/^\[(teacher|scratch|kd|prune)\] training 1 epochs/gm)).toHaveLength(4);
  });

  it('trains the students once per seed with --seeds and compares the means', async () => {
    const recipe = path.join(work, 'seeds.yaml');
    writeFileSync(recipe, [`data: "${data}"`, 'threads: 1', 'workers: 0', 'batchSize: 32', 'teacher: {model: resnet8x4, epochs: 1}', 'student: {model: resnet8x4, epochs: 1, prune: {epochs: 1, gradualEpochs: 0}}', 'methods: [scratch, prune]'].join('\n'));
    const out = path.join(work, 'seeds');
    const r = await dstAsync(['pipeline', recipe, '--out', out, '--seeds', '4,5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| top-1 % \(mean ± sd\) \| top-1 % of seeds 4, 5 \|/);
    expect(r.stdout).toMatch(/^\| prune \| resnet8x4 \| \d+\.\d\d ± \d+\.\d\d \| \d+\.\d\d \/ \d+\.\d\d \|/m);
    for (const seed of [4, 5]) {
      expect(readFileSync(path.join(out, `seed-${seed}`, 'scratch', 'recipe.yaml'), 'utf8')).toMatch(new RegExp(`^seed: ${seed}$`, 'm'));
      // Each seed's prune starts from that seed's scratch run.
      expect(existsSync(path.join(out, `seed-${seed}`, 'prune', 'dense'))).toBe(false);
      expect(readFileSync(path.join(out, `seed-${seed}`, 'comparison.md'), 'utf8')).toMatch(/^\| prune \| resnet8x4 \| \d+\.\d\d \|/m);
    }
    const rows = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
    expect(rows.map((row: { method: string }) => row.method)).toEqual(['teacher', 'scratch', 'prune']);
    const perSeed = [4, 5].map((seed) => JSON.parse(readFileSync(path.join(out, `seed-${seed}`, 'comparison.json'), 'utf8'))[2].top1);
    expect(rows[2].acrossSeeds.top1).toEqual(perSeed);
    expect(rows[2].top1).toBeCloseTo((perSeed[0] + perSeed[1]) / 2, 12);
    expect(existsSync(path.join(out, 'comparison.svg'))).toBe(true);
  }, 120_000);

  it('trains stages side by side with --parallel, each in its own process, and stops all on a failing one', async () => {
    const recipe = path.join(work, 'parallel.yaml');
    const lines = [`data: "${data}"`, 'threads: 2', 'workers: 0', 'batchSize: 32', 'teacher: {model: resnet8x4, epochs: 1}'];
    writeFileSync(recipe, [...lines, 'student: {model: resnet8x4, epochs: 1, prune: {epochs: 1, gradualEpochs: 0}}', 'methods: [scratch, prune, kd, dst]'].join('\n'));
    const out = path.join(work, 'parallel');
    const r = await dstAsync(['pipeline', recipe, '--out', out, '--parallel', '2']);
    expect(r.code, r.stderr).toBe(0);
    // The teacher and scratch need nothing: both start before the teacher's first epoch ends.
    expect(r.stderr.indexOf('[scratch] running')).toBeLessThan(r.stderr.indexOf('[teacher] epoch 1/1'));
    expect(r.stderr.indexOf('[kd] running')).toBeGreaterThan(r.stderr.indexOf('[teacher] epoch 1/1'));
    const rows = JSON.parse(readFileSync(path.join(out, 'comparison.json'), 'utf8'));
    expect(rows.map((row: { method: string }) => row.method)).toEqual(['teacher', 'scratch', 'kd', 'prune', 'dst']);
    // Each stage process got half of the recipe's two threads.
    expect(readFileSync(path.join(out, 'dst', 'recipe.yaml'), 'utf8')).toMatch(/^threads: 1$/m);
    expect(existsSync(path.join(out, 'dst', 'dense'))).toBe(false);

    // aconvnet cannot take 16x16 chips: the scratch process fails, the teacher's is stopped, one line says why.
    const broken = path.join(work, 'parallel-broken.yaml');
    writeFileSync(broken, [...lines, 'student: {model: aconvnet, epochs: 1}', 'methods: [scratch, kd]'].join('\n'));
    const failed = await dstAsync(['pipeline', broken, '--out', path.join(work, 'parallel-broken'), '--parallel', '2']);
    expect(failed.code).toBe(1);
    const errors = failed.stderr.split('\n').filter((l) => l.includes('dst: '));
    expect(errors).toEqual([expect.stringMatching(/^dst: error: stage scratch failed: model: aconvnet cannot take 1x16x16 inputs/)]);
    expect(existsSync(path.join(work, 'parallel-broken', 'teacher', 'summary.json'))).toBe(false);
  }, 180_000);

  it('gives one clear line for each bad input', async () => {
    const other = path.join(work, 'five-classes.safetensors');
    const five = createModel('resnet8x4', { numClasses: 5 });
    await saveSafetensors(other, five.stateDict());
    five.dispose();
    const emptyMethods = path.join(work, 'empty.yaml');
    writeFileSync(emptyMethods, `data: "${data}"\nteacher: {model: resnet8x4}\nstudent: {model: resnet20}\nmethods: []\n`);
    const out = path.join(work, 'bad');
    const base = ['distill', '--teacher', teacher, '--student', 'resnet20', ...common, '--out', out];
    const cases: [string[], RegExp][] = [
      [[...base, '--method', 'dst', '--sparsity', 'uhp:4:4'], /^dst: error: .*uhp:4:4.*N must be/],
      [[...base, '--method', 'dst', '--sparsity', 'uhp:3:5'], /^dst: error: .*uhp:3:5.*M must be one of 2, 4, 8, 16/],
      [[...base, '--method', 'unstructured-kd', '--sparsity', 'unstructured:1.5'], /^dst: error: .*unstructured:1\.5/],
      [[...base, '--method', 'prune', '--sparsity', 'channel:0'], /^dst: error: .*channel:0/],
      [[...base, '--method', 'kd', '--teacher', other, '--teacher-model', 'resnet8x4'], /^dst: error: --teacher: .* predicts 5 classes, the data has 10/],
      [[...base, '--method', 'kd', '--teacher', path.join(teacher, 'model.safetensors').replace('model.safetensors', 'checkpoints/last.safetensors'), '--teacher-model', 'resnet56'], /^dst: error: .*does not fit model 'resnet56'/],
      [[...base, '--method', 'dst', '--teacher', path.join(work, 'nowhere')], /^dst: error: --teacher: .*nowhere does not exist/],
      [[...base, '--method', 'magic'], /^dst: error: method: /],
      [[...base, '--method', 'dst', '--dst-start', 'unstructured-kd'], /^dst: error: dst\.start: /],
      [['pipeline', emptyMethods, '--out', out], /^dst: error: .*methods: must list at least one method/],
      [['pipeline', emptyMethods, '--out', out, '--seeds', '0,x'], /^dst: error: --seeds: expected comma-separated non-negative integers/],
      [['pipeline', emptyMethods, '--out', out, '--seeds', '1,1'], /^dst: error: --seeds: lists a seed twice/],
    ];
    for (const [args, message] of cases) {
      const r = dst(args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(1);
    }
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
  }, 180_000);
});
