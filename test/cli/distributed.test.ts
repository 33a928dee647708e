import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributedAvailable } from '../../src/torch/index.js';
import { freePort } from '../torch/spawn-script.js';
import { dstAsync, root, type CliResult } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-ddp-cli-'));
// test/train/distributed.test.ts holds 2 ranks to 1 process; here the CLI's launcher, hosts and faults.
const common = ['--model', 'resnet20', '--data', 'synthetic:size=16,trainPerClass=16,testPerClass=4', '--batch-size', '16', '--lr', '0.002', '--sync-bn', '--threads', '1', '--workers', '0'];

interface Metric {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testTop1: number;
}

function metrics(out: string): Metric[] {
  return readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Metric);
}

/** The CLI as a running process (run by `wrap`, e.g. in a network namespace), for tests that act on it while it trains. */
function dstProcess(args: readonly string[], wrap: readonly string[] = [], env: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<CliResult> } {
  const command = [...wrap, process.execPath, path.join(root, 'bin', 'dst.js'), ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, CI: '1', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { pid: child.pid!, done };
}

/** The launcher's worker with this RANK, from /proc (children of `launcher`). */
function workerPid(launcher: number, rank: number): number | undefined {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid !== launcher) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return Number(entry);
    } catch {
      // The process ended meanwhile.
    }
  }
  return undefined;
}

/** How one "host" of a multi-host test runs dst. */
interface Host {
  address: string;
  wrap: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * Two hosts as two network namespaces joined by a veth pair, with private
 * addresses that exist inside the namespaces only (so every pair may use the
 * same ones), when this machine allows
 * it (root and iproute2); otherwise two processes on 127.0.0.1.
 */
function twoHosts(): { hosts: [Host, Host]; namespaces: boolean; remove: () => void } {
  const tag = `${process.pid % 100_000}`;
  const ns = [`dsta${tag}`, `dstb${tag}`] as const;
  const veth = [`dva${tag}`, `dvb${tag}`] as const;
  const ip = (...args: string[]): boolean => spawnSync('ip', args, { stdio: 'ignore' }).status === 0;
  const remove = (): void => {
    for (const n of ns) ip('netns', 'del', n);
  };
  const made =
    ip('netns', 'add', ns[0]) &&
    ip('netns', 'add', ns[1]) &&
    ip('link', 'add', veth[0], 'type', 'veth', 'peer', 'name', veth[1]) &&
    [0, 1].every(
      (i) =>
        ip('link', 'set', veth[i]!, 'netns', ns[i]!) &&
        ip('-n', ns[i]!, 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', veth[i]!) &&
        ip('-n', ns[i]!, 'link', 'set', veth[i]!, 'up') &&
        ip('-n', ns[i]!, 'link', 'set', 'lo', 'up'),
    );
  if (!made) {
    remove();
    const loopback: Host = { address: '127.0.0.1', wrap: [], env: {} };
    return { hosts: [loopback, loopback], namespaces: false, remove: () => {} };
  }
  const host = (i: number): Host => ({ address: `10.77.0.${i + 1}`, wrap: ['ip', 'netns', 'exec', ns[i]!], env: { GLOO_SOCKET_IFNAME: veth[i]! } });
  return { hosts: [host(0), host(1)], namespaces: true, remove };
}

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('dst doctor', () => {
  it('says whether the c10d/Gloo bindings are there', async () => {
    const r = await dstAsync(['doctor', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { distributed: boolean }).distributed).toBe(distributedAvailable());
    const text = await dstAsync(['doctor']);
    expect(text.stdout).toMatch(distributedAvailable() ? /^c10d\/Gloo  yes: data-parallel training \(--nproc, --nnodes\) available$/m : /^c10d\/Gloo  no: /m);
  });
});

describe.skipIf(!distributedAvailable())('dst train --nproc / --nnodes', () => {
  it('two --nnodes hosts (network namespaces, else 127.0.0.1) train exactly what --nproc 2 on one host trains; only rank 0 writes', async () => {
    const { hosts, remove } = twoHosts();
    const master = `${hosts[0].address}:${await freePort()}`;
    const onHost = (i: number, out: string) =>
      dstProcess(['train', ...common, '--epochs', '2', '--out', path.join(work, out), '--nnodes', '2', '--node-rank', String(i), '--master', master], hosts[i]!.wrap, hosts[i]!.env).done;
    const [nproc, host0, host1] = await Promise.all([
      dstAsync(['train', ...common, '--epochs', '2', '--out', path.join(work, 'nproc'), '--nproc', '2']),
      onHost(0, 'nodes'),
      onHost(1, 'nodes-host1'),
    ]).finally(remove);
    for (const r of [nproc, host0, host1]) expect(r.code, r.stderr).toBe(0);
    expect(nproc.stdout).toMatch(/^nproc: resnet20 on synthetic, 2 epochs/);
    // Rank 0 alone reports and writes; host 1's --out is never created.
    expect(host1.stdout).toBe('');
    expect(existsSync(path.join(work, 'nodes-host1'))).toBe(false);
    expect(existsSync(path.join(work, 'nproc', '.dst-lock'))).toBe(false);
    const two = metrics(path.join(work, 'nproc'));
    // The same two ranks whether one launcher or two hosts started them: the same numbers exactly.
    expect(metrics(path.join(work, 'nodes'))).toEqual(two.map((m) => ({ ...m, seconds: expect.any(Number), imagesPerSecond: expect.any(Number), commMsPerStep: expect.any(Number) })));
    // Every gradient in one float32 bucket, with the BatchNorm statistics and the step's totals (about 1% more).
    const { params } = JSON.parse(readFileSync(path.join(work, 'nproc', 'summary.json'), 'utf8')) as { params: number };
    expect((two[0] as unknown as { commBytesPerStep: number }).commBytesPerStep / (4 * params)).toBeGreaterThan(1);
    expect((two[0] as unknown as { commBytesPerStep: number }).commBytesPerStep / (4 * params)).toBeLessThan(1.02);
  }, 80_000);

  it('dst distill --method dst --nproc 2 distils from the teacher and prunes to UHP 2:4 with the masks rank 0 chose', async () => {
    // The --nproc run above serves as teacher and as the dense student to prune (--init skips the dense stage).
    const teacher = path.join(work, 'nproc');
    const out = path.join(work, 'dst');
    const r = await dstAsync(['distill', ...common, '--method', 'dst', '--teacher', teacher, '--init', teacher, '--prune-epochs', '2', '--gradual-epochs', '1', '--sparsity', 'uhp:2:4', '--out', out, '--nproc', '2']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as { uniform: boolean; sparsity: number; method: string };
    expect(summary).toMatchObject({ method: 'dst', uniform: true });
    expect(summary.sparsity).toBeCloseTo(0.5, 2);
    expect(metrics(out).map((m) => m.epoch)).toEqual([1, 2]);
  }, 60_000);

  it('refuses launcher options that cannot work, one line each naming the option', async () => {
    const out = path.join(work, 'refused');
    const [uneven, stray, noMaster, badNode] = await Promise.all([
      dstAsync(['train', ...common, '--batch-size', '15', '--epochs', '1', '--out', out, '--nproc', '2']),
      dstAsync(['train', ...common, '--epochs', '1', '--out', out, '--master', '127.0.0.1:29500']),
      dstAsync(['train', ...common, '--epochs', '1', '--out', out, '--nnodes', '2', '--node-rank', '0']),
      dstAsync(['train', ...common, '--epochs', '1', '--out', out, '--nnodes', '2', '--node-rank', '2', '--master', '127.0.0.1:29500']),
    ]);
    // Both ranks find the odd batch; the launcher shows it once, then names the rank that stopped first.
    expect(uneven.code).toBe(1);
    const lines = uneven.stderr.trim().split('\n');
    expect(lines[0]).toBe('dst: error: --batch-size: the global batch (15) must be a multiple of the number of ranks (2), since each rank takes an equal part of it');
    expect(lines[1]).toMatch(/^dst: error: rank [01] \(pid \d+\) exited with code 1; stopped the other rank on this host$/);
    expect(lines).toHaveLength(2);
    expect(stray.stderr).toBe('dst: error: --master: only applies to a data-parallel run: add --nproc N (N > 1) or --nnodes K (K > 1), or start dst with WORLD_SIZE set\n');
    expect(noMaster.stderr).toBe('dst: error: --master: is required with --nnodes 2: the address and port of host 0 (--node-rank 0), the same on every host\n');
    expect(badNode.stderr).toBe('dst: error: --node-rank: must be below --nnodes (2), got 2\n');
    for (const r of [stray, noMaster, badNode]) expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('a killed rank stops the launcher with one line naming it; the checkpoint resumes with another number of ranks', async () => {
    const out = path.join(work, 'killed');
    const run = dstProcess(['train', ...common, '--epochs', '40', '--out', out, '--nproc', '2']);
    await until(() => existsSync(path.join(out, 'checkpoints', 'last.safetensors')), 40_000);
    const victim = workerPid(run.pid, 1);
    expect(victim).toBeDefined();
    process.kill(victim!, 'SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBe(1);
    // Rank 0's own account of the loss comes after the launcher's verdict, which dropped it.
    expect(killed.stderr).not.toMatch(/lost rank/);
    expect(killed.stderr.trim().split('\n').at(-1)).toBe(`dst: error: rank 1 (pid ${victim}) was killed by SIGKILL; stopped the other rank on this host`);
    const resumed = await dstAsync(['train', ...common, '--epochs', '3', '--out', out, '--resume', '--allow-changes']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at epoch \d\/3/);
    expect(metrics(out).map((m) => m.epoch)).toEqual([1, 2, 3]);
  }, 80_000);
});
