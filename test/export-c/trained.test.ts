/**
 * A trained UHP 2:4:16 resnet20 through `dst export --format c`: the generated
 * project built with the host gcc (and for NEON under qemu, when present) gives
 * the engine's scores on raw test images, as float32 and as 8-bit pixels.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CTarget } from '../../src/export/c/index.js';
import { availableIsas, loadModel, type Isa } from '../../src/runtime/index.js';
import { exportRun, testSplit, trainRuns, type TestSplit } from '../export/trained-runs.js';
import { exec, has, relDiff, runProgram, writeImage } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-c-trained-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = path.join(work, 'uhp16');
const uhp = path.join(work, 'uhp16.uhp');
/** A few test images of different classes: the program starts once per image, so the whole split would be slow. */
const images = [0, 1, 9, 42];
let split: TestSplit;

beforeAll(async () => {
  await trainRuns(work, { uhp16: 'uhp:2:4:16' });
  exportRun(run, uhp);
  split = await testSplit(run);
}, 120_000);

const avx2 = process.arch === 'x64' && availableIsas().includes('avx2');
const neonTools = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
if (!neonTools) console.warn('skipping the trained NEON C export test: aarch64-linux-gnu-gcc or qemu-aarch64 is missing (apt-get install gcc-aarch64-linux-gnu qemu-user)');

async function engineScores(input: Float32Array, isa: Isa): Promise<Float32Array> {
  const m = await loadModel(uhp, { isa });
  try {
    return m.run(input);
  } finally {
    m.dispose();
  }
}

/** Exports and builds the run for `target`, then checks every image as float32 and as 8-bit pixels against the engine. */
async function check(target: CTarget, isa: Isa, launcher: string[]): Promise<void> {
  const dir = path.join(work, `c-${target}`);
  const stdout = exportRun(run, dir, 'c', ['--target', target]);
  expect(stdout).toContain(`C99 project for ${target}`);
  await exec('make', ['-j2', '-C', dir, `TARGET=${target}`, 'OPT=-O2'], { timeout: 180_000 });
  const bin = [...launcher, path.join(dir, 'build', target, 'model')];
  const per = split.shape.reduce((a, b) => a * b, 1);
  for (const i of images) {
    const floats = split.engineInput.slice(i * per, (i + 1) * per);
    const pixels = split.pixels.slice(i * per, (i + 1) * per);
    const want = await engineScores(floats, isa);
    const f32 = await runProgram(bin, await writeImage(path.join(dir, `in${i}.f32`), floats));
    expect(relDiff(f32.scores, want), `image ${i} float32`).toBeLessThanOrEqual(1e-5);
    const u8 = await runProgram(bin, await writeImage(path.join(dir, `in${i}.u8`), pixels));
    expect(relDiff(u8.scores, want), `image ${i} 8-bit`).toBeLessThanOrEqual(1e-5);
  }
}

describe('trained UHP 2:4:16 resnet20 as generated C', () => {
  it(`host gcc (${avx2 ? 'avx2' : 'generic'}) gives the engine's scores on test images, float32 and 8-bit`, async () => {
    await check(avx2 ? 'avx2' : 'generic', avx2 ? 'avx2' : 'scalar', []);
  }, 240_000);

  it.skipIf(!neonTools)("NEON under qemu gives the engine's scores on test images, float32 and 8-bit", async () => {
    await check('neon', 'auto', ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']);
  }, 240_000);
});
