import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, DstError } from '../../src/errors.js';
import { checkRankCard, distributedAvailable, initProcessGroup } from '../../src/torch/distributed.js';
import { freePort, spawnScript, type ScriptResult } from './spawn-script.js';

const worker = path.join(path.dirname(fileURLToPath(import.meta.url)), 'distributed-worker.ts');

/** One rank, configured through PyTorch's variables; killed if it outlives `limitMs`, so a hang fails instead of stalling the suite. */
function runRank(rank: number, port: number, scenario: string, timeoutMs: number, limitMs: number, worldSize = 2): ReturnType<typeof spawnScript> {
  return spawnScript(worker, [scenario, String(timeoutMs)], { RANK: String(rank), WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) }, limitMs);
}

async function startPair(scenario: string, timeoutMs: number, worldSizes: [number, number] = [2, 2]): Promise<ReturnType<typeof runRank>[]> {
  const port = await freePort();
  return [0, 1].map((rank) => runRank(rank, port, scenario, timeoutMs, 40_000, worldSizes[rank]));
}

async function runPair(scenario: string, timeoutMs: number, worldSizes?: [number, number]): Promise<ScriptResult[]> {
  return Promise.all((await startPair(scenario, timeoutMs, worldSizes)).map((r) => r.done));
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
    const [r0, r1] = await runPair('early-exit', 3_000);
    expect(r1!.code, r1!.stderr).toBe(0);
    expect(r0!.code, r0!.stdout).toBe(3);
    expect(r0!.stderr).toMatch(/^allReduce failed on rank 0 of 2: .+; lost rank 1 \(no report from it within 1.5 s of the failure: exited, killed or hung\)\n$/);
    expect(r0!.ms).toBeLessThan(25_000);
  });

  it('times out with one line naming the operation when a peer stays silent', async () => {
    const [rank0, rank1] = await startPair('stall', 3_000);
    const r0 = await rank0!.done;
    // Rank 1 would stay silent for twice the timeout; its part is over once rank 0 gave up.
    rank1!.kill();
    await rank1!.done;
    expect(r0.code, r0.stdout).toBe(3);
    expect(r0.stderr).toMatch(/^allReduce failed on rank 0 of 2: timed out after 3000 ms; lost rank 1 \(.+\)\n$/);
    // Start-up, rendezvous and barrier come first; the bound is the 3 s timeout, not a hang.
    expect(r0.ms).toBeLessThan(25_000);
  });
});

describe.skipIf(!distributedAvailable())('rendezvous failures: one line each', () => {
  it('names both world sizes when the ranks disagree', async () => {
    const [r0, r1] = await runPair('join', 10_000, [2, 3]);
    expect(r0!.code).toBe(3);
    expect(r0!.stderr).toMatch(/^WORLD_SIZE: rank 0 \(.+\) was started with 2 ranks, rank 1 \(.+\) with 3; start every rank with the same --nproc\/--nnodes\n$/);
    expect(r1!.code).toBe(3);
    expect(r1!.stderr).toMatch(/^WORLD_SIZE: rank 1 \(.+\) was started with 3 ranks, rank 0 \(.+\) with 2;/);
  });

  it('names the port when it is in use', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      const r = await runRank(0, port, 'join', 5_000, 30_000).done;
      expect(r.code).toBe(3);
      expect(r.stderr).toBe(`hosting the store at 127.0.0.1:${port} failed on rank 0 of 2: port ${port} is in use on this host; choose another port (--master HOST:PORT or MASTER_PORT)\n`);
    } finally {
      server.close();
    }
  });

  it('gives up on a master nobody answers at within the time-out', async () => {
    const port = await freePort();
    const r = await runRank(1, port, 'join', 1_500, 30_000).done;
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `connecting to the store at 127.0.0.1:${port} failed on rank 1 of 2: nothing answered at 127.0.0.1:${port} within 1500 ms; is rank 0 (--node-rank 0) running, and is 127.0.0.1 reachable from this host?\n`,
    );
  });
});

describe('rank cards', () => {
  const card = { worldSize: 2, version: '1.0.0', host: 'a', pid: 1 };
  it('accept the same world size and version', () => {
    expect(() => checkRankCard(card, { ...card, host: 'b' }, 1, 0)).not.toThrow();
  });
  it('refuse another dst version in one line naming both ranks and hosts', () => {
    expect(() => checkRankCard(card, { ...card, version: '0.9.0', host: 'b' }, 1, 0)).toThrow(DstError);
    expect(() => checkRankCard(card, { ...card, version: '0.9.0', host: 'b' }, 1, 0)).toThrow(
      'rank 1 (a) runs dst 1.0.0, rank 0 (b) runs dst 0.9.0; install the same version on every host',
    );
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
