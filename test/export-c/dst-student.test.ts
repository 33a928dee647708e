/**
 * The MSTAR deployment path end to end on generated data: a DST A-ConvNets
 * student (teacher, KD, UHP 2:4:16 with the teacher-pruned-student loss)
 * trained by `dst pipeline` on 96x96 chips centre-cropped to 88x88 as MSTAR's
 * are; exported to .uhp (crop embedded from the size the model file records)
 * and to C. The engine must predict what LibTorch predicts on every test
 * chip, and the generated C (host, NEON under qemu) give the engine's scores
 * from float and 8-bit chips; the Cortex-M7 build reports flash and RAM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import type { CTarget } from '../../src/export/c/index.js';
import { availableIsas, loadModel, type Isa } from '../../src/runtime/index.js';
import { dstOk, dstOkAsync } from '../cli/run-cli.js';
import { exec, has, relDiff, runProgram, sections, symbolSize, writeImage } from './helpers.js';
import { qemuTools, runQemuM7 } from './qemu.js';

const DATA = 'synthetic:size=96,trainPerClass=8,testPerClass=3';
const work = mkdtempSync(path.join(tmpdir(), 'dst-c-student-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const student = path.join(work, 'pipeline', 'dst');
const uhp = path.join(work, 'student.uhp');

let exportReport = '';
let chips: Uint8Array;
let chipCount = 0;
const chipSize = 96 * 96;

beforeAll(async () => {
  const recipe = {
    name: 'sar-student',
    data: DATA,
    seed: 0,
    threads: 1,
    workers: 0,
    batchSize: 16,
    transforms: {
      train: [{ op: 'randomCrop', size: 88 }, { op: 'toFloat' }, { op: 'normalize' }],
      test: [{ op: 'centerCrop', size: 88 }, { op: 'toFloat' }, { op: 'normalize' }],
    },
    teacher: { model: 'aconvnet', epochs: 1 },
    student: { model: 'aconvnet', epochs: 1, sparsity: 'uhp:2:4:16', prune: { epochs: 1, gradualEpochs: 0 } },
    methods: ['kd', 'dst'],
  };
  writeFileSync(path.join(work, 'recipe.json'), JSON.stringify(recipe));
  await dstOkAsync(['pipeline', path.join(work, 'recipe.json'), '--out', path.join(work, 'pipeline')]);
  exportReport = dstOk(['export', '--run', student, '--out', uhp]);
  const { test } = await openData(DATA, { cacheDir: false });
  chips = test.images as Uint8Array;
  chipCount = test.length;
}, 180_000);

describe('a DST A-ConvNets student, as MSTAR deploys it', () => {
  it('the .uhp embeds the centre crop and the engine predicts what LibTorch predicts on every test chip', () => {
    expect(exportReport).toContain('centre crop from 96x96');
    const report = JSON.parse(dstOk(['eval', '--run', student, '--uhp', uhp, '--json'])) as { count: number; engine: { samePredictions: number; count: number } };
    expect(report.engine.count).toBe(report.count);
    expect(report.engine.samePredictions).toBe(report.count);
  });

  const avx2 = process.arch === 'x64' && availableIsas().includes('avx2');
  const neon = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
  const m7 = has('arm-none-eabi-gcc') && has('arm-none-eabi-size');

  async function check(target: CTarget, isa: Isa, launcher: string[]): Promise<void> {
    const dir = path.join(work, `c-${target}`);
    dstOk(['export', '--run', student, '--format', 'c', '--target', target, '--out', dir]);
    await exec('make', ['-j2', '-C', dir, `TARGET=${target}`, 'OPT=-O2'], { timeout: 180_000 });
    const bin = [...launcher, path.join(dir, 'build', target, 'model')];
    const model = await loadModel(uhp, { isa });
    try {
      for (const i of [0, 7, chipCount - 1]) {
        const pixels = chips.slice(i * chipSize, (i + 1) * chipSize);
        const floats = Float32Array.from(pixels, (p) => p / 255);
        const want = model.run(floats);
        const f32 = await runProgram(bin, await writeImage(path.join(dir, `chip${i}.f32`), floats));
        expect(relDiff(f32.scores, want), `chip ${i} float32`).toBeLessThanOrEqual(1e-5);
        const u8 = await runProgram(bin, await writeImage(path.join(dir, `chip${i}.u8`), pixels));
        expect(relDiff(u8.scores, want), `chip ${i} 8-bit`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      model.dispose();
    }
  }

  it(`generated C on the host (${avx2 ? 'avx2' : 'generic'}) gives the engine's scores from float and 8-bit chips`, async () => {
    await check(avx2 ? 'avx2' : 'generic', avx2 ? 'avx2' : 'scalar', []);
  }, 240_000);

  it.skipIf(!neon)("generated C for NEON under qemu gives the engine's scores", async () => {
    await check('neon', 'auto', ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']);
  }, 240_000);

  it.skipIf(!qemuTools())("generated C on an emulated Cortex-M7 (QEMU mps2-an500) gives the engine's scores from float and 8-bit chips", async () => {
    const dir = path.join(work, 'c-qemu-m7');
    dstOk(['export', '--run', student, '--format', 'c', '--target', 'qemu-m7', '--out', dir]);
    await exec('make', ['-j2', '-C', dir, 'TARGET=qemu-m7', 'OPT=-O2'], { timeout: 180_000 });
    const model = await loadModel(uhp, { isa: 'scalar' });
    try {
      for (const i of [0, chipCount - 1]) {
        const pixels = chips.slice(i * chipSize, (i + 1) * chipSize);
        const floats = Float32Array.from(pixels, (p) => p / 255);
        const want = model.run(floats);
        const f32 = await runQemuM7(dir, await writeImage(path.join(dir, `chip${i}.f32`), floats));
        expect(relDiff(f32.scores, want), `chip ${i} float32`).toBeLessThanOrEqual(1e-5);
        const u8 = await runQemuM7(dir, await writeImage(path.join(dir, `chip${i}.u8`), pixels));
        expect(relDiff(u8.scores, want), `chip ${i} 8-bit`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      model.dispose();
    }
  }, 240_000);

  it.skipIf(!m7)('generated C builds for a Cortex-M7 and fits its flash at half the dense weights', async () => {
    const dir = path.join(work, 'c-m7');
    dstOk(['export', '--run', student, '--format', 'c', '--target', 'cortex-m', '--out', dir]);
    await exec('make', ['-j2', '-C', dir, 'TARGET=cortex-m', 'OPT=-O3'], { timeout: 180_000 });
    const s = await sections(path.join(dir, 'build', 'cortex-m', 'model.elf'));
    const get = (k: string): number => s.get(k) ?? 0;
    const flash = get('.isr_vector') + get('.text') + get('.rodata') + get('.ARM.exidx') + get('.data');
    const ram = get('.data') + get('.bss');
    console.log(`DST A-ConvNets student, Cortex-M7: flash ${(flash / 1024).toFixed(1)} KiB, RAM ${(ram / 1024).toFixed(1)} KiB`);
    // A-ConvNets holds 303K weights (1.16 MiB dense fp32); UHP 2:4:16 keeps half plus 2-bit indices.
    expect(flash).toBeLessThan(0.56 * 303_000 * 4 + 64 * 1024);
    // The bare-metal driver holds its image as 8-bit pixels, a quarter of a float image's RAM.
    const inputSize = Number(/#define DST_MODEL_INPUT_SIZE (\d+)/.exec(readFileSync(path.join(dir, 'model.h'), 'utf8'))?.[1]);
    expect(await symbolSize(path.join(dir, 'build', 'cortex-m', 'model.elf'), 'image')).toBe(inputSize);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('cortex-m');
  }, 240_000);
});
