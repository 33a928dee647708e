/**
 * Engine latency per weight path, measured side by side in one process
 * (DESIGN §7): median of >= 200 runs after warm-up, batch 1, random weights.
 * Rows take turns of --turn consecutive inferences (src/bench/measure.ts):
 * 20 is a deployed model running back to back, 1 starts every inference with
 * caches the other rows filled (the 10 ms CSR row evicts nearly all of them).
 * Run: npx vite-node bench/engine-speed.ts [--runs 300] [--threads 1,2] [--turn 20,1] [--isa auto]
 */
import * as os from 'node:os';
import type { Graph } from '../src/export/ir.js';
import { denseWeightBytes, writeUhp } from '../src/export/uhp-writer.js';
import { measureRoundRobin, type Latency } from '../src/bench/measure.js';
import { availableIsas, loadModelBytes, type Isa } from '../src/runtime/index.js';
import { aconvnet, pruned, randomInput, resnet20, type PruneSpec } from '../test/engine/graphs.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Math.max(200, Number(arg('runs', '300')));
const threadList = arg('threads', '1,2').split(',').map(Number);
const turnList = arg('turn', '20,1').split(',').map(Number);
const isa = arg('isa', 'auto') as Isa;

const rows: [string, PruneSpec][] = [
  ['engine dense', { kind: 'dense' }],
  ['engine CSR 50%', { kind: 'unstructured' }],
  ['engine UHP 2:4 B=1', { kind: 'uhp', n: 2, m: 4, block: 1 }],
  ['engine UHP 2:4 B=16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
  ['engine UHP 2:4 B=8', { kind: 'uhp', n: 2, m: 4, block: 8 }],
];

async function bench(models: { name: string; bytes: Uint8Array }[], threads: number, turn: number): Promise<Latency[]> {
  const loaded = models.map((m) => loadModelBytes(m.bytes, m.name, { threads, isa }));
  const per = loaded[0].inputShape.reduce((a, b) => a * b, 1);
  const x = randomInput(per, 1);
  const ms = await measureRoundRobin(loaded.map((m, i) => ({ name: models[i].name, run: () => m.run(x) })), { runs, warmup: 50, turn });
  loaded.forEach((m) => m.dispose());
  return ms;
}

const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} logical cores), batch 1, median of ${runs} runs after 50 warm-up`);
console.log(`kernels: ${isa === 'auto' ? availableIsas()[0] : isa}`);
// Other jobs on the machine move every absolute number; the ratios within one table are what to compare.
console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [name, graph] of [['ResNet-20 (10 classes, 3x32x32)', resnet20(1, 32)], ['A-ConvNets (1x88x88)', aconvnet()]] as [string, Graph][]) {
  const models = rows.map(([row, spec]) => ({ name: row, bytes: writeUhp(pruned(graph, spec)) }));
  const denseBytes = denseWeightBytes(graph);
  for (const turn of turnList) {
    const perThreads: Latency[][] = [];
    for (const t of threadList) perThreads.push(await bench(models, t, turn));
    console.log(`\n${name}; dense fp32 weights ${(denseBytes / 1024).toFixed(1)} KiB; rows in turns of ${turn}`);
    console.log(pad('row', 22) + threadList.map((t) => pad(`${t} thr ms`, 11) + pad('p90 ms', 9) + pad('speedup', 9)).join('') + 'file KiB  file/dense');
    models.forEach((m, i) => {
      const cells = perThreads.map((ts) => pad(ts[i].ms.toFixed(3), 11) + pad(ts[i].p90.toFixed(3), 9) + pad(`${(ts[0].ms / ts[i].ms).toFixed(2)}x`, 9)).join('');
      console.log(pad(m.name, 22) + cells + pad((m.bytes.length / 1024).toFixed(1), 10) + (m.bytes.length / denseBytes).toFixed(3));
    });
  }
}
