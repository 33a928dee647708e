/**
 * int8 conv kernels, scalar vs SIMD, side by side in one run:
 * 1. the kernels alone on ResNet-20-like 3x3 layers (test/engine/q8-kernels-driver.c
 *    built as the addon builds kernel files: gcc -O3, AVX2 enabled per function),
 *    median of alternating runs of one whole layer;
 * 2. whole int8 ResNet-20 (3x32x32) inferences through the engine, dense and
 *    UHP 2:4 B=16, scalar and every SIMD kernel set this CPU has, 1 thread,
 *    rows taking turns (src/bench/measure.ts).
 * Run: npx vite-node bench/q8-kernels.ts [--seconds 2] [--runs 300]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeUhp } from '../src/export/uhp-writer.js';
import { measureRoundRobin } from '../src/bench/measure.js';
import { quantizeGraph } from '../src/quant/quantize.js';
import { availableIsas, loadModelBytes, type Isa } from '../src/runtime/index.js';
import { pruned, resnet20, type PruneSpec } from '../test/engine/graphs.js';
import { calibrationSet, rawImages } from '../test/quant/graphs.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const seconds = arg('seconds', '2');
const runs = Math.max(100, Number(arg('runs', '300')));
const root = path.resolve(import.meta.dirname, '..');
const kernels = path.join(root, 'native', 'engine', 'kernels');

console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} logical cores)`);
// Other jobs on a shared machine move every absolute number; compare within a table.
console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

if (process.arch === 'x64' || process.arch === 'arm64') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dst-q8-bench-'));
  try {
    const bin = path.join(dir, 'q8-kernels');
    const sources = ['q8_scalar.c', 'q8_avx2.c', 'q8_neon.c'].map((f) => path.join(kernels, f));
    execFileSync('gcc', ['-std=c99', '-O3', '-Wall', '-Wextra', '-Werror', `-I${kernels}`, '-o', bin, path.join(root, 'test', 'engine', 'q8-kernels-driver.c'), ...sources]);
    console.log(`\nconv16 alone, one layer per run, median of alternating runs over ${seconds} s per layer`);
    process.stdout.write(execFileSync(bin, ['bench', seconds], { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: [string, PruneSpec][] = [
  ['dense', { kind: 'dense' }],
  ['UHP 2:4 B=16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
];
const isas = ['scalar', ...availableIsas().filter((i) => i !== 'scalar')] as Isa[];
const graph = resnet20(1, 32);
console.log(`\nint8 ResNet-20 (3x32x32) through the engine, 1 thread, batch 1, median of ${runs} runs after 30 warm-up, turns of 20`);
console.log('row'.padEnd(16) + isas.map((i) => `${i} ms`.padEnd(12)).join('') + 'speed-up');
for (const [name, spec] of rows) {
  const g = pruned(graph, spec);
  const q = quantizeGraph(g, calibrationSet(g, 8, 3), { method: 'minmax' });
  const bytes = writeUhp(q);
  const images = rawImages(q, 1, 5);
  const models = isas.map((isa) => loadModelBytes(bytes, `${name} ${isa}`, { isa, threads: 1 }));
  try {
    const ms = await measureRoundRobin(models.map((m, i) => ({ name: isas[i]!, run: () => m.run(images, 1) })), { runs, warmup: 30, turn: 20 });
    const best = Math.min(...ms.slice(1).map((l) => l.ms));
    console.log(name.padEnd(16) + ms.map((l) => l.ms.toFixed(3).padEnd(12)).join('') + (ms.length > 1 ? `${(ms[0]!.ms / best).toFixed(2)}x` : ''));
  } finally {
    models.forEach((m) => m.dispose());
  }
}
