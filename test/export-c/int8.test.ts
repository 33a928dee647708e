/**
 * int8 generated C: the same codes as the engine on the host (generic and
 * AVX2), on AArch64 (NEON, under qemu-aarch64) and on the emulated Cortex-M7
 * (its SMLAD kernel), from float and 8-bit images; and the Cortex-M7 build
 * fits the flash and RAM an int8 tool would take.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CTarget } from '../../src/export/c/index.js';
import type { Graph } from '../../src/export/ir.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { availableIsas, type Isa } from '../../src/runtime/index.js';
import { aconvnet, pruned, resnet20 } from '../engine/graphs.js';
import { calibrationSet, rawImages } from '../quant/graphs.js';
import { build, engineScores, has, runProgram, sections, writeImage } from './helpers.js';
import { qemuTools, runQemuM7 } from './qemu.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-int8-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const int8 = (graph: Graph): Graph => quantizeGraph(graph, calibrationSet(graph, 8, 3), { method: 'minmax' });
const b16 = { kind: 'uhp', n: 2, m: 4, block: 16 } as const;
const cases: [string, Graph, number][] = [
  // name, int8 graph, most flash (KiB) of its Cortex-M7 build
  ['resnet20 uhp 2:4 B16', int8(pruned(resnet20(1, 32), b16)), 200],
  ['aconvnet uhp 2:4 B16', int8(pruned(aconvnet(), b16)), 220],
];

const avx2 = process.arch === 'x64' && availableIsas().includes('avx2');
const neon = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
const hosts: [CTarget, Isa, string[]][] = [
  ['generic', 'scalar', []],
  ...(avx2 ? [['avx2', 'avx2', []] as [CTarget, Isa, string[]]] : []),
  ...(neon ? [['neon', 'scalar', ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']] as [CTarget, Isa, string[]]] : []),
];

/** An image of 8-bit pixels and the same as floats p / 255, as the engine takes it. */
function pixels(graph: Graph, seed: number): { u8: Uint8Array; float: Float32Array } {
  const u8 = Uint8Array.from(rawImages(graph, 1, seed), (v) => Math.round(v * 255));
  return { u8, float: Float32Array.from(u8, (p) => Math.fround(p / 255)) };
}

describe('int8 generated C', () => {
  for (const [name, graph, flashKiB] of cases) {
    it(`${name}: ${hosts.map((h) => h[0]).join(', ')} give the engine's int8 scores, float and 8-bit images`, async () => {
      const x = rawImages(graph, 1, 7);
      const { u8, float } = pixels(graph, 8);
      const want = engineScores(graph, x, 'scalar'), wantU8 = engineScores(graph, float, 'scalar');
      for (const [target, isa, launcher] of hosts) {
        expect(Array.from(engineScores(graph, x, isa)), `engine ${isa}`).toEqual(Array.from(want));
        const d = await build(graph, path.join(dir, `${name.replace(/\W+/g, '-')}-${target}`), target);
        const bin = [...launcher, path.join(d, 'build', target, 'model')];
        expect(Array.from((await runProgram(bin, await writeImage(path.join(d, 'in.raw'), x))).scores), target).toEqual(Array.from(want));
        expect(Array.from((await runProgram(bin, await writeImage(path.join(d, 'in.u8'), u8))).scores), `${target}, 8-bit`).toEqual(Array.from(wantU8));
      }
    }, 240_000);

    it.skipIf(!qemuTools())(`${name}: the emulated Cortex-M7 gives the engine's int8 scores within ${flashKiB} KiB of flash`, async () => {
      const x = rawImages(graph, 1, 9);
      const { u8, float } = pixels(graph, 10);
      const d = await build(graph, path.join(dir, `${name.replace(/\W+/g, '-')}-m7`), 'qemu-m7', '-O3');
      expect(Array.from((await runQemuM7(d, await writeImage(path.join(d, 'in.raw'), x))).scores)).toEqual(Array.from(engineScores(graph, x, 'scalar')));
      expect(Array.from((await runQemuM7(d, await writeImage(path.join(d, 'in.u8'), u8))).scores)).toEqual(Array.from(engineScores(graph, float, 'scalar')));
      expect(readFileSync(path.join(d, 'README.md'), 'utf8')).toMatch(/void dst_model_run_q8\(const uint8_t \*input, int8_t \*scores\);[\s\S]*\| \w+ \| int8 sparse16 \| UHP 2:4:16 \|/);
      const s = await sections(path.join(d, 'build', 'qemu-m7', 'model.elf'));
      const get = (k: string): number => s.get(k) ?? 0;
      expect((get('.isr_vector') + get('.text') + get('.rodata') + get('.ARM.exidx') + get('.data')) / 1024).toBeLessThanOrEqual(flashKiB);
    }, 240_000);
  }
});
