/**
 * A NaN or an infinity in the image: every kernel set and every generated
 * program refuses it the same way, instead of each giving its own scores
 * (vector max and min drop NaN where scalar compares keep it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { availableIsas, loadModelBytes, type Isa } from '../../src/runtime/index.js';
import { aconvnet, pruned, randomInput, resnet20 } from '../engine/graphs.js';
import { build, exec, inputSize, writeImage } from './helpers.js';
import { qemuTools } from './qemu.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-nonfinite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const graph = pruned(resnet20(1, 16), { kind: 'uhp', n: 2, m: 4, block: 16 });

/** A random image with one bad pixel. */
function poisoned(size: number, bad: number): Float32Array {
  const x = randomInput(size, 3);
  x[Math.floor(size / 2)] = bad;
  return x;
}

describe('non-finite images', () => {
  for (const isa of availableIsas() as Isa[]) {
    it(`the engine (${isa}, one and two threads) refuses NaN and infinities, naming the image of the batch`, () => {
      for (const threads of [1, 2]) {
        const m = loadModelBytes(writeUhp(pruned(aconvnet(), { kind: 'uhp', n: 2, m: 4, block: 16 })), 'a.uhp', { isa, threads });
        try {
          const size = m.inputShape.reduce((a, b) => a * b, 1);
          for (const bad of [NaN, Infinity, -Infinity]) {
            const batch = new Float32Array(2 * size);
            batch.set(randomInput(size, 1));
            batch.set(poisoned(size, bad), size);
            expect(() => m.run(batch, 2)).toThrow(/^a\.uhp: image 1 of the batch holds a NaN or an infinity/);
          }
          expect(m.run(randomInput(size, 2)).every(Number.isFinite)).toBe(true);
        } finally {
          m.dispose();
        }
      }
    });
  }

  it('the generated C (host) exits 1 with one line, and runs the same image once it is finite', async () => {
    const d = await build(graph, path.join(dir, 'host'), 'generic');
    const bin = path.join(d, 'build', 'generic', 'model');
    const image = await writeImage(path.join(d, 'nan.raw'), poisoned(inputSize(graph), NaN));
    const err = await exec(bin, [image], { encoding: 'utf8' }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr.trim()).toMatch(/nan\.raw: the image holds a NaN or an infinity/);
    await writeImage(image, randomInput(inputSize(graph), 3));
    await expect(exec(bin, [image], { encoding: 'utf8' })).resolves.toBeTruthy();
  }, 120_000);

  it.skipIf(!qemuTools())('the Cortex-M7 program (QEMU) exits non-zero with one line', async () => {
    const d = await build(graph, path.join(dir, 'm7'), 'qemu-m7');
    const image = await writeImage(path.join(d, 'inf.raw'), poisoned(inputSize(graph), Infinity));
    const err = await exec('make', ['-s', '--no-print-directory', '-C', d, 'TARGET=qemu-m7', 'run', `IMAGE=${image}`], { encoding: 'utf8', timeout: 120_000 }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr).toMatch(/the image holds a NaN or an infinity/);
  }, 120_000);
});
