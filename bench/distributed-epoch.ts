/**
 * Data-parallel training speed: one epoch of ResNet-20 on CIFAR-10 (the JPEG
 * copy, decoded once into dst's image cache) through `dst train`, with each
 * configuration in turn, rounds alternating so that a change of machine load
 * hits all of them alike. Prints training images per second (the epoch's
 * training phase, evaluation excluded), the epoch's wall time and, for
 * several ranks, the all-reduce milliseconds and bytes per step.
 *
 * Usage: npx vite-node bench/distributed-epoch.ts -- [--data DIR] [--rounds 1]
 *   [--configs 2x1,1x2,1x1] [--epochs 1] [--batch 128]
 * DIR defaults to $DST_DATA/cifar10-jpeg ($DST_DATA defaults to ../shared/data);
 * a config NxT is --nproc N --threads T.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { machineLine, repoRoot } from './common.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    configs: { type: 'string', default: '2x1,1x2,1x1' },
    epochs: { type: 'string', default: '1' },
    batch: { type: 'string', default: '128' },
  },
});
const dataDir = values.data ?? path.join(process.env.DST_DATA ?? path.join(repoRoot, '..', 'shared', 'data'), 'cifar10-jpeg');
const configs = values.configs.split(',').map((c) => {
  const [nproc, threads] = c.split('x').map(Number) as [number, number];
  return { name: c, nproc, threads };
});

interface Epoch {
  imagesPerSecond: number;
  seconds: number;
  commMsPerStep?: number;
  commBytesPerStep?: number;
}

function runOnce(nproc: number, threads: number): { epoch: Epoch; wall: number } {
  const out = mkdtempSync(path.join(tmpdir(), 'dst-bench-ddp-'));
  const args = ['train', '--model', 'resnet20', '--data', `folder:${dataDir}`, '--epochs', values.epochs, '--batch-size', values.batch, '--threads', String(threads), '--workers', '1', '--out', out, '--force'];
  if (nproc > 1) args.push('--nproc', String(nproc));
  const t0 = performance.now();
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'dst.js'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CI: '1' } });
  const wall = (performance.now() - t0) / 1000;
  const lines = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  rmSync(out, { recursive: true, force: true });
  return { epoch: JSON.parse(lines.at(-1)!) as Epoch, wall };
}

console.log(machineLine());
console.log(`data ${dataDir}, ResNet-20, batch ${values.batch} (global), ${values.epochs} epoch(s), ${values.rounds} round(s)`);
const results = new Map<string, { ips: number[]; wall: number[]; commMs: number[]; commBytes: number[] }>(configs.map((c) => [c.name, { ips: [], wall: [], commMs: [], commBytes: [] }]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const c of configs) {
    const { epoch, wall } = runOnce(c.nproc, c.threads);
    const r = results.get(c.name)!;
    r.ips.push(epoch.imagesPerSecond);
    r.wall.push(wall);
    if (epoch.commMsPerStep !== undefined) r.commMs.push(epoch.commMsPerStep);
    if (epoch.commBytesPerStep !== undefined) r.commBytes.push(epoch.commBytesPerStep);
    console.log(`round ${round + 1} --nproc ${c.nproc} --threads ${c.threads}: ${epoch.imagesPerSecond.toFixed(1)} img/s, wall ${wall.toFixed(1)} s${epoch.commMsPerStep !== undefined ? `, all-reduce ${epoch.commMsPerStep.toFixed(1)} ms and ${(epoch.commBytesPerStep! / 2 ** 20).toFixed(2)} MiB per step` : ''}`);
  }
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
console.log('\n| --nproc | --threads | train img/s (mean) | epoch wall s (mean) | all-reduce ms/step | MiB/step |');
console.log('|---|---|---|---|---|---|');
for (const c of configs) {
  const r = results.get(c.name)!;
  const comm = r.commMs.length > 0 ? [mean(r.commMs).toFixed(1), (mean(r.commBytes) / 2 ** 20).toFixed(2)] : ['-', '-'];
  console.log(`| ${c.nproc} | ${c.threads} | ${mean(r.ips).toFixed(1)} | ${mean(r.wall).toFixed(1)} | ${comm.join(' | ')} |`);
}
