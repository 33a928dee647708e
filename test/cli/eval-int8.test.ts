/** dst eval --uhp with an int8 file: top-1 through the int8 engine and its agreement with the float model, image by image. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA } from '../export/trained-runs.js';
import { dst } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-eval-int8-'));
const run = path.join(work, 'run');
const file = path.join(work, 'int8.uhp');

beforeAll(() => {
  const train = dst(['train', '--model', 'resnet8x4', '--data', DATA, '--epochs', '1', '--batch-size', '32', '--threads', '1', '--workers', '0', '--out', run]);
  expect(train.code, train.stderr).toBe(0);
  const exported = dst(['export', '--run', run, '--out', file, '--quantize', 'int8', '--calibration', '48']);
  expect(exported.code, exported.stderr).toBe(0);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('dst eval --uhp on an int8 file', () => {
  it('reports the int8 engine and how often it predicts what LibTorch predicts', () => {
    const r = dst(['eval', '--run', run, '--uhp', file, '--threads', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { engine, top1, count } = JSON.parse(r.stdout) as { engine: { int8: boolean; top1: number; samePredictions: number; count: number }; top1: number; count: number };
    expect(engine.int8).toBe(true);
    expect(engine.count).toBe(count);
    // Measured on this data: the int8 model agrees with its float self on nearly every image.
    expect(engine.samePredictions / engine.count).toBeGreaterThan(0.9);
    expect(Math.abs(engine.top1 - top1)).toBeLessThan(0.05);
  }, 60_000);

  it('names the int8 engine in the table', () => {
    const r = dst(['eval', '--run', run, '--uhp', file, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^engine int8 \(\w+\) on .*int8\.uhp: top-1 [\d.]+%  top-5 [\d.]+%  same prediction as LibTorch on \d+\/\d+ images$/m);
  }, 60_000);
});
