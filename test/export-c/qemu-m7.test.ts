/** Generated C on an emulated Cortex-M7 (QEMU mps2-an500) gives the engine's scores; its instruction counter is checked on loops of known length. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeDir } from '../../src/export/c/kernel-sources.js';
import { randomInput, rng } from '../engine/graphs.js';
import { build, engineScores, exec, inputSize, prunedModels, relDiff, slug, writeImage } from './helpers.js';
import { qemuTools, runQemuM7 } from './qemu.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-qemu-'));
const rows: string[] = [];
afterAll(() => {
  if (rows.length > 0) console.log(`Cortex-M7 under QEMU (arm-none-eabi-gcc -O3)\n| model | instructions per inference | QEMU run |\n|---|---|---|\n${rows.join('\n')}`);
  rmSync(dir, { recursive: true, force: true });
});

const tools = qemuTools();
if (!tools) console.warn('skipping the QEMU Cortex-M7 tests: qemu-system-arm or arm-none-eabi-gcc is missing (apt-get install qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi)');

const CHECKED = ['resnet20 dense', 'resnet20 uhp 2:4 B1', 'resnet20 uhp 2:4 B16', 'aconvnet dense'];
const M7 = ['-mcpu=cortex-m7', '-mthumb', '-mfpu=fpv5-d16', '-mfloat-abi=hard'];

describe.skipIf(!tools)('generated C under QEMU (mps2-an500, Cortex-M7)', () => {
  it('timer0 under -icount shift=0 counts instructions: N iterations of K report N*K within one tick', async () => {
    const project = nativeDir('project');
    const elf = path.join(dir, 'loop.elf');
    await exec('arm-none-eabi-gcc', [
      '-std=c99', '-Wall', '-Wextra', '-Werror', '-O2', ...M7, `-I${project}`,
      '--specs=nosys.specs', '-nostartfiles', '-T', path.join(project, 'mps2-an500.ld'), '-o', elf,
      path.join(import.meta.dirname, 'qemu-icount-loop.c'), path.join(project, 'semihost.c'), path.join(project, 'startup_cortex_m.c'),
    ]);
    const { stdout } = await exec('qemu-system-arm', [
      '-machine', 'mps2-an500', '-cpu', 'cortex-m7', '-nographic', '-monitor', 'none', '-serial', 'none',
      '-semihosting-config', 'enable=on,target=native', '-icount', 'shift=0', '-kernel', elf,
    ], { encoding: 'utf8', timeout: 60_000 });
    const loops = [...stdout.matchAll(/^loop (\d+) (\d+) instructions (\d+)$/gm)].map((m) => m.slice(1).map(Number));
    expect(loops).toHaveLength(3);
    for (const [k, n, counted] of loops) {
      /* One tick of 40, plus the timer read and loop set-up around the asm. */
      expect(Math.abs(counted - n * k), `loop ${k} x ${n}`).toBeLessThanOrEqual(40 + 8);
    }
  });

  for (const { name, graph } of prunedModels().filter((m) => CHECKED.includes(m.name))) {
    it(`${name} matches the engine within 1e-5`, async () => {
      const d = await build(graph, path.join(dir, slug(name)), 'qemu-m7', '-O3');
      const x = randomInput(inputSize(graph), 11);
      const run = await runQemuM7(d, await writeImage(path.join(d, 'in.raw'), x));
      expect(relDiff(run.scores, engineScores(graph, x, 'scalar'))).toBeLessThanOrEqual(1e-5);
      expect(run.instructions).toBeGreaterThan(0);
      rows.push(`| ${name} | ${(run.instructions / 1e6).toFixed(2)} M | ${(run.ms / 1000).toFixed(2)} s |`);
      if (name !== 'resnet20 dense') return;
      const r = rng(4);
      const pixels = Uint8Array.from({ length: inputSize(graph) }, () => Math.floor(r() * 256));
      const u8 = await runQemuM7(d, await writeImage(path.join(d, 'in.u8'), pixels));
      expect(relDiff(u8.scores, engineScores(graph, Float32Array.from(pixels, (v) => v / 255), 'scalar')), '8-bit image').toBeLessThanOrEqual(1e-5);
    });
  }
});
