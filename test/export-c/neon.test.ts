/** Generated C for the NEON target, cross-compiled with aarch64-linux-gnu-gcc and run under qemu, gives the engine's scores. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomInput } from '../engine/graphs.js';
import { build, engineScores, has, inputSize, prunedModels, relDiff, runProgram, slug, writeImage } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-neon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tools = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
if (!tools) console.warn('skipping the NEON C export tests: aarch64-linux-gnu-gcc or qemu-aarch64 is missing (apt-get install gcc-aarch64-linux-gnu qemu-user)');

describe.skipIf(!tools)('generated C for AArch64 NEON under qemu', () => {
  for (const { name, graph } of prunedModels()) {
    it(`${name} matches the engine within 1e-5`, async () => {
      const d = await build(graph, path.join(dir, slug(name)), 'neon');
      const x = randomInput(inputSize(graph), 12);
      const qemu = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', path.join(d, 'build', 'neon', 'model')];
      const { scores } = await runProgram(qemu, await writeImage(path.join(d, 'in.raw'), x));
      expect(relDiff(scores, engineScores(graph, x, 'auto'))).toBeLessThanOrEqual(1e-5);
    });
  }
});
