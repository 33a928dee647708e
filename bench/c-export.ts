/**
 * The generated C next to the engine, in one run: flash and RAM of the
 * Cortex-M7 build (arm-none-eabi-size), its instructions per inference on
 * QEMU's emulated Cortex-M7 (mps2-an500, -icount: instructions, not
 * cycles; the same count on every run), and host latency of the generated C
 * (-O2 and the Makefile's -O3, timed inside its main) vs the engine (1 thread,
 * same kernel set), batch 1, the three taking turns of TURN runs so a loaded
 * minute of the host hits them alike; each figure is the median of its
 * turns' medians, N runs in all: the zoo's ResNet-20 and
 * A-ConvNets with random weights, or the trained runs named by --run (each
 * with its own pattern, e.g. a KD student and its DST student).
 * Run: npx vite-node bench/c-export.ts [--runs 300] [--run runs/mstar/kd --run runs/mstar/dst]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeCProject, type CTarget } from '../src/export/c/index.js';
import { describePatterns, graphOfRun } from '../src/export/from-run.js';
import type { Graph } from '../src/export/ir.js';
import { writeUhp } from '../src/export/uhp-writer.js';
import { availableIsas, loadModelBytes } from '../src/runtime/index.js';
import { quantizeGraph } from '../src/quant/index.js';
import { aconvnet, pruned, randomInput, resnet20, type PruneSpec } from '../test/engine/graphs.js';
import { calibrationSet } from '../test/quant/graphs.js';
import { qemuTools, runQemuM7 } from '../test/export-c/qemu.js';
import { machineLine, median } from './common.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Math.max(200, Number(arg('runs', '300')));
const TURN = 50;
const turns = Math.ceil(runs / TURN);
const hostTarget: CTarget = process.arch === 'x64' && availableIsas().includes('avx2') ? 'avx2' : 'generic';
const engineIsa = hostTarget === 'avx2' ? 'avx2' : 'scalar';
const cortex = spawnSync('sh', ['-c', 'command -v arm-none-eabi-gcc']).status === 0;
const qemu = qemuTools();

const runDirs = process.argv.flatMap((a, i) => (a === '--run' && process.argv[i + 1] ? [process.argv[i + 1]!] : []));
const specs: [string, PruneSpec][] = [
  ['dense', { kind: 'dense' }],
  ['UHP 2:4 B=1', { kind: 'uhp', n: 2, m: 4, block: 1 }],
  ['UHP 2:4 B=16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
];
const randomModels: [string, Graph][] = [['ResNet-20 (32x32)', resnet20(1, 32)], ['A-ConvNets (88x88)', aconvnet()]];
/** int8 rows: calibrated on generated images (random weights: sizes and instruction counts, not accuracy). */
const int8Specs: [string, PruneSpec][] = [
  ['int8 dense', { kind: 'dense' }],
  ['int8 UHP 2:4 B=16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
];
const int8 = (graph: Graph): Graph => quantizeGraph(graph, calibrationSet(graph, 32, 3), { method: 'minmax' });
/** [model, weights, graph] rows: the trained runs if named, else the random-weight models at each pattern. */
const rows: [string, string, Graph][] =
  runDirs.length > 0
    ? await Promise.all(
        runDirs.map(async (run): Promise<[string, string, Graph]> => {
          const { graph, info, pattern, patternLayers } = await graphOfRun(run);
          return [`${info.model} (${run})`, describePatterns(pattern, patternLayers), graph];
        }),
      )
    : randomModels.flatMap(([m, g]) => [
        ...specs.map(([s, spec]): [string, string, Graph] => [m, s, pruned(g, spec)]),
        ...int8Specs.map(([s, spec]): [string, string, Graph] => [m, s, int8(pruned(g, spec))]),
      ]);

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-bench-'));
const make = (d: string, target: CTarget, opt = '-O3'): void => {
  execFileSync('make', ['-C', d, 'clean'], { stdio: 'ignore' });
  execFileSync('make', ['-j2', '-C', d, `TARGET=${target}`, `OPT=${opt}`], { stdio: 'ignore' });
};

async function measure(graph: Graph, name: string) {
  const m7 = path.join(dir, `${name}-m7`);
  let flash = NaN, ram = NaN;
  if (cortex) {
    await writeCProject(graph, m7, { target: 'cortex-m' });
    make(m7, 'cortex-m');
    const out = execFileSync('arm-none-eabi-size', ['-A', path.join(m7, 'build', 'cortex-m', 'model.elf')], { encoding: 'utf8' });
    const s = new Map([...out.matchAll(/^(\.\S+)\s+(\d+)\s+\d+$/gm)].map((m) => [m[1], Number(m[2])]));
    const get = (k: string): number => s.get(k) ?? 0;
    flash = get('.isr_vector') + get('.text') + get('.rodata') + get('.ARM.exidx') + get('.data');
    ram = get('.data') + get('.bss');
  }
  const host = path.join(dir, `${name}-host`);
  const info = await writeCProject(graph, host, { target: hostTarget });
  const image = path.join(host, 'in.raw');
  const engine = loadModelBytes(writeUhp(graph), name, { isa: engineIsa, threads: 1 });
  const x = randomInput(engine.inputShape.reduce((a, b) => a * b, 1), 1);
  writeFileSync(image, new Uint8Array(x.buffer));
  let instructions = NaN;
  if (qemu) {
    const emu = path.join(dir, `${name}-qemu`);
    await writeCProject(graph, emu, { target: 'qemu-m7' });
    make(emu, 'qemu-m7');
    instructions = (await runQemuM7(emu, image)).instructions;
  }
  const binary = (opt: string): string => {
    make(host, hostTarget, opt);
    const bin = path.join(host, `model${opt}`);
    copyFileSync(path.join(host, 'build', hostTarget, 'model'), bin);
    return bin;
  };
  const o2 = binary('-O2'), o3 = binary('-O3');
  const timeC = (bin: string): number => Number(/median ([\d.]+) us/.exec(spawnSync(bin, [image, String(TURN)], { encoding: 'utf8' }).stderr)?.[1]);
  const timeEngine = (): number => {
    const times: number[] = [];
    for (let i = 0; i < TURN; i++) {
      const t0 = process.hrtime.bigint();
      engine.run(x);
      times.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
    return median(times);
  };
  for (let i = 0; i < 50; i++) engine.run(x);
  const turnMedians = { o2: [] as number[], o3: [] as number[], engine: [] as number[] };
  for (let t = 0; t < turns; t++) {
    turnMedians.o2.push(timeC(o2));
    turnMedians.o3.push(timeC(o3));
    turnMedians.engine.push(timeEngine());
  }
  engine.dispose();
  return { flash, ram, instructions, arena: info.arenaBytes, o2Us: median(turnMedians.o2), cUs: median(turnMedians.o3), engineUs: median(turnMedians.engine) };
}

const kib = (n: number): string => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} KiB` : 'n/a');
const lines = [
  machineLine(),
  `host C: ${hostTarget} kernels, gcc -O2 / -O3, 1 thread; engine: ${engineIsa}, 1 thread; batch 1; in ${turns} turns of ${TURN} runs each (after warm-up), median of the turns' medians`,
  cortex ? 'Cortex-M7: arm-none-eabi-gcc -O3 -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard; flash = text+rodata+data, RAM = data+bss (arena, input and scores buffers)' : 'Cortex-M7: arm-none-eabi-gcc missing, sizes not measured',
  qemu
    ? 'M7 instructions: the same build for QEMU 7 mps2-an500 (Cortex-M7), -icount shift=0, instructions executed by one inference (float image), to 40; instructions, not cycles; ratio to the float dense row of the same model (int8 UHP: also to int8 dense)'
    : 'M7 instructions: qemu-system-arm or arm-none-eabi-gcc missing, not measured',
  '',
  '| model | weights | M7 flash | M7 RAM | M7 instructions per inference (QEMU) | C -O2 | C -O3 | engine | C -O3 / engine |',
  '|---|---|---|---|---|---|---|---|---|',
];
const denseInstructions = new Map<string, number>();
const int8DenseInstructions = new Map<string, number>();
const ratio = (n: number, of: number | undefined, what: string): string => (of && of !== n ? `${(n / of).toFixed(2)}x ${what}` : '');
const millions = (n: number, dense: number | undefined, int8Dense?: number): string =>
  Number.isFinite(n) ? `${(n / 1e6).toFixed(1)} M${[ratio(n, dense, 'dense'), ratio(n, int8Dense, 'int8 dense')].filter(Boolean).map((r) => ` (${r})`).join('')}` : 'n/a';
try {
  for (const [mName, sName, graph] of rows) {
    const r = await measure(graph, `${mName}-${sName}`.replace(/[^a-z0-9]+/gi, '-'));
    if (sName === 'dense') denseInstructions.set(mName, r.instructions);
    if (sName === 'int8 dense') int8DenseInstructions.set(mName, r.instructions);
    const int8Dense = sName.startsWith('int8 UHP') ? int8DenseInstructions.get(mName) : undefined;
    lines.push(`| ${mName} | ${sName} | ${kib(r.flash)} | ${kib(r.ram)} | ${millions(r.instructions, denseInstructions.get(mName), int8Dense)} | ${(r.o2Us / 1000).toFixed(3)} ms | ${(r.cUs / 1000).toFixed(3)} ms | ${(r.engineUs / 1000).toFixed(3)} ms | ${(r.cUs / r.engineUs).toFixed(2)}x |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(lines.join('\n'));
