import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { distributedAvailable, initProcessGroup } from '../../src/torch/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const viteNode = path.join(root, 'node_modules', 'vite-node', 'vite-node.mjs');
const worker = path.join(here, 'distributed-worker.ts');

interface RankResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A port nobody listens on right now: the kernel picks it for a throw-away server. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One rank, configured through PyTorch's variables; killed if it outlives `limitMs`, so a hang fails instead of stalling the suite. */
function runRank(rank: number, port: number, scenario: string, timeoutMs: number, limitMs: number): { done: Promise<RankResult>; kill: () => void } {
  const started = Date.now();
  let kill = (): void => {};
  const done = new Promise<RankResult>((resolve, reject) => {
    const child = spawn(process.execPath, [viteNode, worker, scenario, String(timeoutMs)], {
      cwd: root,
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), GLOO_SOCKET_IFNAME: '' },
      timeout: limitMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    kill = () => child.kill();
  });
  return { done, kill };
}

async function startPair(scenario: string, timeoutMs: number): Promise<ReturnType<typeof runRank>[]> {
  const port = await freePort();
  return [0, 1].map((rank) => runRank(rank, port, scenario, timeoutMs, 40_000));
}

async function runPair(scenario: string, timeoutMs: number): Promise<RankResult[]> {
  return Promise.all((await startPair(scenario, timeoutMs)).map((r) => r.done));
}

describe.skipIf(!distributedAvailable())('distributed (c10d over Gloo, two processes on loopback)', () => {
  it('all-reduces (sum and average), broadcasts from rank 1 and meets at a barrier', async () => {
    const ranks = await runPair('collectives', 20_000);
    for (const [rank, r] of ranks.entries()) {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim())).toEqual({
        rank,
        worldSize: 2,
        sum: [3, 30, 1],
        average: [1.5, 3, 4.5],
        broadcast: [101, 102, -1],
      });
    }
  });

  it('fails with one line naming the operation when a peer exits', async () => {
    const [r0, r1] = await runPair('early-exit', 5_000);
    expect(r1!.code, r1!.stderr).toBe(0);
    expect(r0!.code, r0!.stdout).toBe(3);
    expect(r0!.stderr).toMatch(/^allReduce failed on rank 0 of 2: .+\n$/);
    expect(r0!.ms).toBeLessThan(25_000);
  });

  it('times out with one line naming the operation when a peer stays silent', async () => {
    const [rank0, rank1] = await startPair('stall', 3_000);
    const r0 = await rank0!.done;
    // Rank 1 would stay silent for twice the timeout; its part is over once rank 0 gave up.
    rank1!.kill();
    await rank1!.done;
    expect(r0.code, r0.stdout).toBe(3);
    expect(r0.stderr).toMatch(/^allReduce failed on rank 0 of 2: .+\n$/);
    // Start-up, rendezvous and barrier come first; the bound is the 3 s timeout, not a hang.
    expect(r0.ms).toBeLessThan(25_000);
  });
});

describe('initProcessGroup arguments', () => {
  it.each([
    [{ rank: 0, worldSize: 0, master: '127.0.0.1:1' }, /^worldSize: must be an integer >= 1, got 0$/],
    [{ rank: 2, worldSize: 2, master: '127.0.0.1:1' }, /^rank: must be below worldSize \(2\), got 2$/],
    [{ rank: -1, worldSize: 2, master: '127.0.0.1:1' }, /^rank: must be an integer >= 0, got -1$/],
    [{ rank: 0, worldSize: 2, master: '127.0.0.1' }, /^master: must be 'HOST:PORT'/],
    [{ rank: 0, worldSize: 2, master: 'host:70000' }, /^master: must be 'HOST:PORT'/],
    [{ rank: 0, worldSize: 2, master: '127.0.0.1:1', timeoutMs: 0 }, /^timeoutMs: must be an integer >= 1, got 0$/],
  ])('rejects %j with one line', (options, message) => {
    expect(() => initProcessGroup(options)).toThrow(ConfigError);
    expect(() => initProcessGroup(options)).toThrow(message);
  });

  it('reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT when options are missing', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { WORLD_SIZE: '2', RANK: '5', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '1' });
      expect(() => initProcessGroup()).toThrow(/^rank: must be below worldSize \(2\), got 5$/);
      process.env.RANK = 'one';
      expect(() => initProcessGroup()).toThrow(/^RANK: must be a non-negative integer, got 'one'$/);
      delete process.env.MASTER_PORT;
      expect(() => initProcessGroup({ rank: 0 })).toThrow(/^master: is required/);
    } finally {
      process.env = saved;
    }
  });
});
