import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributedAvailable } from '../../src/torch/index.js';
import { freePort, spawnScript, type ScriptResult } from '../torch/spawn-script.js';

const worker = path.join(path.dirname(new URL(import.meta.url).pathname), 'distributed-worker.ts');

interface Curve {
  rank: number;
  losses: number[];
  sums: string[];
}

/**
 * A low learning rate keeps the run out of the chaotic regime where any
 * change of summation order (even 1 against 2 intra-op threads in one
 * process) grows to a visible difference within a few dozen steps.
 */
const LR = '0.002';

function parse(r: ScriptResult): Curve {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim()) as Curve;
}

async function ranks(out: (rank: number) => string, epochs: number, syncBn: boolean): Promise<Curve[]> {
  const port = await freePort();
  const runs = [0, 1].map((rank) =>
    spawnScript(worker, [out(rank), String(epochs), syncBn ? '1' : '0', LR], { RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) }, 60_000),
  );
  return (await Promise.all(runs.map((r) => r.done))).map(parse);
}

const maxDiff = (a: readonly number[], b: readonly number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

describe.skipIf(!distributedAvailable())('data-parallel training (2 ranks on loopback)', () => {
  it('follows the 1-rank loss curve over 50 steps of ResNet-20 with sync BatchNorm, differs from the first step with per-rank BatchNorm, keeps the ranks bit-identical after every step either way; only rank 0 writes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dst-ddp-'));
    const [single, synced, perRank] = await Promise.all([
      spawnScript(worker, [path.join(dir, 'one'), '2', '0', LR], { WORLD_SIZE: '1' }, 80_000).done.then(parse),
      ranks((rank) => path.join(dir, `sync-rank${rank}`), 2, true),
      ranks((rank) => path.join(dir, `plain-rank${rank}`), 1, false),
    ]);
    const [s0, s1] = synced as [Curve, Curve];
    expect(single.losses).toHaveLength(50);
    expect(s0.losses).toHaveLength(50);
    // Before any update only the order of the sums differs; later the run's own chaos amplifies it (1 against 2 threads in one process drifts alike).
    expect(Math.abs(s0.losses[0]! - single.losses[0]!)).toBeLessThan(1e-5);
    expect(maxDiff(s0.losses.slice(0, 5), single.losses.slice(0, 5))).toBeLessThan(1e-3);
    expect(maxDiff(s0.losses, single.losses)).toBeLessThan(0.05);
    expect(s1.losses).toEqual(s0.losses);
    expect(s0.sums).toHaveLength(50);
    expect(s1.sums).toEqual(s0.sums);
    expect(existsSync(path.join(dir, 'sync-rank0', 'model.safetensors'))).toBe(true);
    expect(existsSync(path.join(dir, 'sync-rank1'))).toBe(false);

    const [p0, p1] = perRank as [Curve, Curve];
    expect(p0.sums).toHaveLength(25);
    expect(p1.sums).toEqual(p0.sums);
    // Each half batch normalised by its own statistics: a real difference, which the sync check above would catch.
    expect(Math.abs(p0.losses[0]! - single.losses[0]!)).toBeGreaterThan(1e-4);
    expect(maxDiff(p0.losses, single.losses.slice(0, 25))).toBeLessThan(0.5);
  }, 100_000);
});
