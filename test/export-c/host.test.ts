/** Generated C built with the host gcc (-std=c99 -Wall -Wextra -Werror) gives the engine's scores. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CTarget } from '../../src/export/c/index.js';
import { availableIsas, type Isa } from '../../src/runtime/index.js';
import { oddities, pruned, randomInput, rng } from '../engine/graphs.js';
import { build, engineScores, inputSize, prunedModels, relDiff, runProgram, slug, writeImage } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const avx2 = process.arch === 'x64' && availableIsas().includes('avx2');
const target: CTarget = avx2 ? 'avx2' : 'generic';
const isa: Isa = avx2 ? 'avx2' : 'scalar';

describe(`generated C on the host (${target})`, () => {
  for (const { name, graph } of prunedModels()) {
    it(`${name} matches the engine within 1e-5`, async () => {
      const d = await build(graph, path.join(dir, slug(name)), target);
      const x = randomInput(inputSize(graph), 11);
      const { scores } = await runProgram([path.join(d, 'build', target, 'model')], await writeImage(path.join(d, 'in.raw'), x));
      expect(relDiff(scores, engineScores(graph, x, isa))).toBeLessThanOrEqual(1e-5);
    });
  }

  it('portable build: crop, mean/std, flat groups, depthwise, grouped, CSR, softmax; float and 8-bit images', async () => {
    for (const [name, spec] of [['uhp', { kind: 'uhp', n: 2, m: 4, block: 1 }], ['csr', { kind: 'unstructured' }]] as const) {
      const graph = pruned(oddities(), spec);
      const d = await build(graph, path.join(dir, `odd-${name}`), 'generic');
      const bin = [path.join(d, 'build', 'generic', 'model')];
      const x = randomInput(inputSize(graph), 3);
      const { scores } = await runProgram(bin, await writeImage(path.join(d, 'in.raw'), x));
      expect(relDiff(scores, engineScores(graph, x, 'scalar')), name).toBeLessThanOrEqual(1e-5);
      const r = rng(4);
      const pixels = Uint8Array.from({ length: inputSize(graph) }, () => Math.floor(r() * 256));
      const u8 = await runProgram(bin, await writeImage(path.join(d, 'in.u8'), pixels));
      const scaled = Float32Array.from(pixels, (v) => v / 255);
      expect(relDiff(u8.scores, engineScores(graph, scaled, 'scalar')), `${name} 8-bit`).toBeLessThanOrEqual(1e-5);
    }
  });
});
