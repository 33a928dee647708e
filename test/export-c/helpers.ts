/** Export, build and run a generated C project, and the engine's scores for the same graph. */
import { execFile, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';
import { writeCProject, type CTarget } from '../../src/export/c/index.js';
import type { Graph } from '../../src/export/ir.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { loadModelBytes, type Isa } from '../../src/runtime/index.js';
import { aconvnet, pruned, resnet20, type PruneSpec } from '../engine/graphs.js';

export const exec = promisify(execFile);

export const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

export const models: [string, Graph][] = [['resnet20', resnet20(1, 32)], ['aconvnet', aconvnet()]];

export const specs: [string, PruneSpec][] = [
  ['dense', { kind: 'dense' }],
  ['uhp 2:4 B1', { kind: 'uhp', n: 2, m: 4, block: 1 }],
  ['uhp 2:4 B16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
];

/** Exports and builds; returns the project folder. Checks of scores build at -O2: -O3 compiles the AVX2 tiles several times slower. */
export async function build(graph: Graph, dir: string, target: CTarget, opt = '-O2'): Promise<string> {
  await writeCProject(graph, dir, { target });
  await exec('make', ['-j2', '-C', dir, `TARGET=${target}`, `OPT=${opt}`], { timeout: 120_000 });
  return dir;
}

/** Runs a built program on a raw image file; returns its scores and, when timed, the median latency in microseconds. */
export async function runProgram(cmd: string[], image: string, runs?: number): Promise<{ scores: Float32Array; medianUs: number | null }> {
  const args = [...cmd.slice(1), image, ...(runs ? [String(runs)] : [])];
  const { stdout, stderr } = await exec(cmd[0], args, { encoding: 'utf8', timeout: 120_000 });
  const scores = Float32Array.from(stdout.trim().split('\n'), (line) => Number(line.split(' ')[1]));
  const m = /median ([\d.]+) us/.exec(stderr);
  return { scores, medianUs: m ? Number(m[1]) : null };
}

export async function writeImage(file: string, data: Float32Array | Uint8Array): Promise<string> {
  await fs.writeFile(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return file;
}

export function engineScores(graph: Graph, input: Float32Array, isa: Isa): Float32Array {
  const m = loadModelBytes(writeUhp(graph), 'model.uhp', { isa });
  try {
    return m.run(input);
  } finally {
    m.dispose();
  }
}

/** Section sizes of an ELF from `arm-none-eabi-size -A`. */
export async function sections(elf: string): Promise<Map<string, number>> {
  const { stdout } = await exec('arm-none-eabi-size', ['-A', elf], { encoding: 'utf8' });
  const out = new Map<string, number>();
  for (const m of stdout.matchAll(/^(\.\S+)\s+(\d+)\s+\d+$/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/** Byte size of a static symbol of an ARM ELF, from arm-none-eabi-nm. */
export async function symbolSize(elf: string, name: string): Promise<number | undefined> {
  const { stdout } = await exec('arm-none-eabi-nm', ['-S', elf], { encoding: 'utf8' });
  const m = stdout.match(new RegExp(`^[0-9a-f]+ ([0-9a-f]+) [bBdD] ${name}$`, 'm'));
  return m ? parseInt(m[1], 16) : undefined;
}

/** max |a - b| over max |b|: the relative error. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / (scale || 1);
}

export function prunedModels(): { name: string; graph: Graph }[] {
  return models.flatMap(([m, g]) => specs.map(([s, spec]) => ({ name: `${m} ${s}`, graph: pruned(g, spec) })));
}

export const slug = (name: string): string => name.replace(/[^a-z0-9]+/gi, '-');

export function inputSize(graph: Graph): number {
  const [c, h, w] = graph.inputShape;
  const [h0, w0] = graph.preprocess.cropFrom ?? [h, w];
  return c * h0 * w0;
}
