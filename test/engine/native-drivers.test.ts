/**
 * C-level checks that need their own builds: the sanitizer fuzz run of the
 * reader, the thread pool under ThreadSanitizer, and the NEON kernels
 * cross-compiled for AArch64 and run under qemu.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { quantizeGraph } from '../../src/quant/index.js';
import { calibrationSet, logitsOnly } from '../quant/graphs.js';
import { oddities, pruned, resnet20, type PruneSpec } from './graphs.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const engine = path.join(root, 'native', 'engine');
/** The engine's C sources as the addon builds them (binding.gyp), without the Node-API binding. */
const gyp = JSON.parse(readFileSync(path.join(root, 'binding.gyp'), 'utf8')) as { targets: { target_name: string; sources: string[] }[] };
const sources = gyp.targets.find((t) => t.target_name === 'dst_engine')!.sources.filter((f) => !f.includes('/node/')).map((f) => path.join(root, f));
const dir = mkdtempSync(path.join(tmpdir(), 'dst-native-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = promisify(execFile);
const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

function seeds(graphs: [string, ReturnType<typeof resnet20>][], specs: PruneSpec[]): string[] {
  const files: string[] = [];
  for (const [name, g] of graphs) {
    specs.forEach((spec, i) => {
      const file = path.join(dir, `${name}-${i}.uhp`);
      writeFileSync(file, writeUhp(pruned(g, spec)));
      files.push(file);
    });
  }
  return files;
}

const allSpecs: PruneSpec[] = [
  { kind: 'dense' },
  { kind: 'uhp', n: 2, m: 4, block: 1 },
  { kind: 'uhp', n: 2, m: 4, block: 8 },
  { kind: 'uhp', n: 2, m: 4, block: 16 },
  { kind: 'uhp', n: 4, m: 8, block: 1 },
  { kind: 'unstructured' },
];

describe('native drivers', () => {
  const cc = has('clang') ? 'clang' : 'gcc';
  it(`fuzzes the reader with 10,000 mutated files under ASan+UBSan (${cc})`, async () => {
    const bin = path.join(dir, 'fuzz');
    const flags = ['-std=c11', '-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION', '-Wall', '-Wextra', '-Werror', '-pthread'];
    // One compiler per file, all at once: the sanitized kernel files dominate and would otherwise build one after another.
    const objects = await Promise.all([path.join(root, 'test', 'engine', 'fuzz.c'), ...sources].map(async (src, i) => {
      const obj = path.join(dir, `fuzz-${i}.o`);
      await run(cc, [...flags, '-c', '-o', obj, src]);
      return obj;
    }));
    await run(cc, [...flags, '-o', bin, ...objects, '-lm']);
    const files = seeds([['odd', oddities()], ['r20', resnet20(1, 8, 4)]], [allSpecs[0], allSpecs[1], allSpecs[3], allSpecs[5]]);
    // int8 files (version 2): the reader's quantization checks and the int8 run-time under the same mutations
    for (const [name, g] of [['q8-odd', logitsOnly(oddities())], ['q8-r20', pruned(resnet20(1, 8, 4), allSpecs[3]!)]] as const) {
      const file = path.join(dir, `${name}.uhp`);
      writeFileSync(file, writeUhp(quantizeGraph(g, calibrationSet(g, 4, 1), { method: 'minmax' })));
      files.push(file);
    }
    const { stdout: out } = await run(bin, ['10000', ...files], { env: { ...process.env, ASAN_OPTIONS: 'allocator_may_return_null=1:detect_leaks=1' }, encoding: 'utf8', timeout: 240_000 });
    expect(out).toMatch(/^10000 mutated files: \d+ rejected with an error, \d+ accepted, \d+ run\n$/);
  }, 300_000);

  it(`runs every task of every pool loop exactly once under ThreadSanitizer (${cc})`, async () => {
    const bin = path.join(dir, 'pool');
    await run(cc, ['-std=c11', '-O1', '-g', '-fsanitize=thread', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', bin, path.join(root, 'test', 'engine', 'pool.c'), path.join(engine, 'threadpool.c')]);
    const { stdout } = await run(bin, [], { encoding: 'utf8', timeout: 120_000 });
    expect(stdout).toBe('1120 loops: every task ran once\n');
  }, 180_000);

  const cross = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
  it.skipIf(!cross)('NEON kernels match scalar on AArch64 (cross-compiled, qemu)', async () => {
    const bin = path.join(dir, 'driver-aarch64');
    await run('aarch64-linux-gnu-gcc', ['-std=c11', '-O2', '-static', '-Wall', '-Wextra', '-Werror', '-pthread', '-o', bin, path.join(root, 'test', 'engine', 'driver.c'), ...sources, '-lm']);
    const files = seeds([['odd', oddities()], ['r20', resnet20(1, 8, 8)]], allSpecs);
    const { stdout } = await run('qemu-aarch64', [bin, ...files], { encoding: 'utf8', timeout: 300_000 });
    expect(stdout).toMatch(/ neon x2: /);
  }, 400_000);
  if (!cross) console.warn('skipping the NEON test: aarch64-linux-gnu-gcc and qemu-aarch64 are not installed');
});
