/** Bad input to the C back end: a clear error and nothing written. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportC, writeCProject } from '../../src/export/c/index.js';
import type { Graph, GraphNode } from '../../src/export/ir.js';
import { resnet20 } from '../engine/graphs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = (): Graph => resnet20(1, 8, 4);

describe('C back end errors', () => {
  it('names an unsupported op and its layer, and writes nothing', async () => {
    const g = small();
    const at = 5;
    const odd = { op: 'gelu', name: 'act5', input: g.nodes[at - 1].output, output: 'act5' } as unknown as GraphNode;
    const nodes = [...g.nodes.slice(0, at), odd, ...g.nodes.slice(at).map((n) => JSON.parse(JSON.stringify(n, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v))) as GraphNode)];
    const out = path.join(dir, 'unsupported');
    await expect(writeCProject({ ...g, nodes }, out)).rejects.toThrow(/layer 'act5': op 'gelu' is not supported by the C back end/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a weight that breaks its UHP pattern, and writes nothing', async () => {
    const g = small();
    const conv = g.nodes.find((n) => n.op === 'conv' && n.weightShape[1] === 4);
    if (conv?.op !== 'conv') throw new Error('test graph has no 4-channel conv');
    conv.pattern = { kind: 'uhp', n: 2, m: 4, block: 1 };
    const out = path.join(dir, 'pattern');
    await expect(writeCProject(g, out)).rejects.toThrow(new RegExp(`${conv.name}: output channel 0, tap \\(0, 0\\), input channels 0\\.\\.3 hold \\d non-zeros; pattern 2:4`));
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a model whose arena exceeds the RAM given, naming the figure and the peak layer, and writes nothing', async () => {
    const out = path.join(dir, 'ram');
    const fits = await writeCProject(small(), path.join(dir, 'ram-fits'), { target: 'cortex-m', ramBytes: 1 << 20 });
    const need = fits.arenaBytes + fits.scratchBytes;
    await expect(writeCProject(small(), out, { target: 'cortex-m', ramBytes: need - 1 })).rejects.toThrow(
      new RegExp(`^ram: the model needs ${(need / 1024).toFixed(1)} KiB of RAM \\(arena .* \\+ scratch .*\\), more than the .* given; its peak is at layer '[^']+'$`),
    );
    expect(existsSync(out)).toBe(false);
    await expect(writeCProject(small(), out, { target: 'cortex-m', ramBytes: need })).resolves.toBeTruthy();
  });

  it('rejects an unknown target', async () => {
    await expect(exportC(small(), path.join(dir, 'target'), { target: 'riscv' })).rejects.toThrow(/target: must be one of generic, neon, avx2, cortex-m/);
    expect(existsSync(path.join(dir, 'target'))).toBe(false);
  });

  it('replaces an earlier export but never a folder of other files', async () => {
    const out = path.join(dir, 'again');
    await writeCProject(small(), out, { target: 'generic' });
    const info = await writeCProject(small(), out, { target: 'neon' });
    expect(info.files).toContain('kernels/k_neon.c');
    expect(existsSync(path.join(out, 'kernels', 'k_neon.c'))).toBe(true);
    expect(readFileSync(path.join(out, 'Makefile'), 'utf8')).toMatch(/^TARGET \?= neon$/m);
    const mine = path.join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(path.join(mine, 'notes.txt'), 'keep');
    await expect(writeCProject(small(), mine)).rejects.toThrow(/exists and is not an earlier C export/);
    expect(readFileSync(path.join(mine, 'notes.txt'), 'utf8')).toBe('keep');
  });
});
