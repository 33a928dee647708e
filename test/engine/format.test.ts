import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, FormatError, ShapeError } from '../../src/errors.js';
import { crc32 } from '../../src/crc32.js';
import { denseWeightBytes, writeUhp, writeUhpFile } from '../../src/export/uhp-writer.js';
import { loadModel, loadModelBytes } from '../../src/runtime/index.js';
import { aconvnet, oddities, pruned, resnet20 } from './graphs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-uhp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = writeUhp(pruned(oddities(), { kind: 'uhp', n: 2, m: 4, block: 1 }));

function loadError(bytes: Uint8Array): string {
  try {
    loadModelBytes(bytes, 'bad.uhp').dispose();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    const msg = (err as Error).message;
    expect(msg.startsWith('bad.uhp: ')).toBe(true);
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('loaded a broken file');
}

describe('.uhp writer', () => {
  it('stores a 2:4 model in <= 0.55x its dense fp32 weights', () => {
    for (const g of [resnet20(), aconvnet()]) {
      for (const block of [1, 16]) {
        const bytes = writeUhp(pruned(g, { kind: 'uhp', n: 2, m: 4, block }));
        expect(bytes.length / denseWeightBytes(g)).toBeLessThanOrEqual(0.55);
      }
    }
  });

  it('lays out a header, JSON and 64-byte aligned sections with CRCs', () => {
    const view = new DataView(small.buffer, small.byteOffset);
    const jsonLen = view.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(small.subarray(32, 32 + jsonLen)));
    expect(view.getUint32(16, true)).toBe(crc32(small.subarray(32, 32 + jsonLen)));
    expect(Number(view.getBigUint64(24, true))).toBe(small.length);
    for (const s of header.sections) {
      expect(s.offset % 64).toBe(0);
      expect(crc32(small.subarray(s.offset, s.offset + s.length))).toBe(s.crc32);
    }
    expect(header.nodes[0].pattern).toEqual({ kind: 'uhp', n: 2, m: 4, block: 1, grouping: 'flat', bits: 3 });
  });

  it('refuses weights whose zeros break the declared pattern', () => {
    const g = pruned(resnet20(1, 8), { kind: 'uhp', n: 2, m: 4, block: 1 });
    const conv = g.nodes[1];
    if (conv.op !== 'conv') throw new Error('test graph changed');
    conv.weight[0] = conv.weight[0] || 1;
    conv.weight[9] = conv.weight[9] || 1;
    conv.weight[18] = conv.weight[18] || 1;
    expect(() => writeUhp(g)).toThrow(ShapeError);
    expect(() => writeUhp(g)).toThrow(/^conv1: output channel 0, tap \(0, 0\), input channels 0\.\.3 hold [34] non-zeros; pattern 2:4 keeps at most 2$/);
    // A mask shared by 2 channels needs the union of their non-zeros to fit.
    const b2 = pruned(resnet20(1, 8), { kind: 'uhp', n: 2, m: 4, block: 1 });
    b2.nodes.forEach((n) => n.op === 'conv' && n.pattern.kind === 'uhp' && (n.pattern.block = 2));
    expect(() => writeUhp(b2)).toThrow(/output channels 0\.\.1/);
  });

  it('refuses graphs that do not fit together', () => {
    const g = resnet20(1, 8);
    expect(() => writeUhp({ ...g, output: 'nope' })).toThrow(ShapeError);
    expect(() => writeUhp({ ...g, nodes: g.nodes.slice(1) })).toThrow(/not defined/);
  });

  it('writes atomically and loads from a file', async () => {
    const file = path.join(dir, 'r20.uhp');
    await writeUhpFile(file, resnet20(1, 8));
    const m = await loadModel(file, { threads: 2 });
    expect(m.inputShape).toEqual([3, 8, 8]);
    expect(m.outputShape).toEqual([10]);
    expect(m.run(new Float32Array(3 * 64)).length).toBe(10);
    m.setThreads(1);
    expect(m.threads).toBe(1);
    m.dispose();
    expect(() => m.run(new Float32Array(3 * 64))).toThrow(/disposed/);
  });
});

describe('bad input gives one clear error', () => {
  it('truncated file', () => {
    expect(loadError(small.subarray(0, small.length - 10))).toMatch(/truncated/);
    expect(loadError(small.subarray(0, 20))).toMatch(/shorter than the 32-byte header/);
  });

  it('wrong magic and version', () => {
    const m = small.slice();
    m[1] = 0x58;
    expect(loadError(m)).toMatch(/bad magic/);
    const v = small.slice();
    v[8] = 7;
    expect(loadError(v)).toMatch(/version 7 is not supported/);
  });

  it('bit flips anywhere are caught by a CRC or a check', () => {
    for (const at of [40, 100, small.length - 5, small.length >> 1]) {
      const b = small.slice();
      b[at] ^= 0x10;
      expect(loadError(b)).toMatch(/CRC32 mismatch|corrupt|JSON/);
    }
  });

  it('a valid CRC over an inconsistent header names the fault', () => {
    const view = new DataView(small.buffer, small.byteOffset);
    const len = view.getUint32(12, true);
    const text = new TextDecoder().decode(small.subarray(32, 32 + len)).replace('"stride":[1,1]', '"stride":[1,9]');
    const json = new TextEncoder().encode(text);
    const b = small.slice();
    b.set(json, 32);
    new DataView(b.buffer).setUint32(16, crc32(json), true);
    expect(loadError(b)).toMatch(/declared output shape|does not fit/);
  });

  it('missing file, wrong input length, unknown ISA', async () => {
    await expect(loadModel(path.join(dir, 'none.uhp'))).rejects.toThrow(/none\.uhp: cannot read: ENOENT/);
    const m = loadModelBytes(small, 'odd.uhp');
    expect(() => m.run(new Float32Array(5))).toThrow(ShapeError);
    expect(() => m.run(new Float32Array(5))).toThrow(/odd\.uhp: input is 5 values; batch 1 of \[3, 10, 11\] needs 330/);
    expect(() => m.run(new Float32Array(330), 2)).toThrow(/needs 660/);
    m.dispose();
    expect(() => loadModelBytes(small, 'odd.uhp', { isa: 'neon' })).toThrow(ConfigError);
    expect(() => loadModelBytes(small, 'odd.uhp', { threads: 0 })).toThrow(ConfigError);
  });
});
