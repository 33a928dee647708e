import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, readSafetensors, saveSafetensors, type RawTensor } from '../../src/nn/index.js';
import { createModel } from '../../src/models/index.js';
import { tensor, tidy } from '../../src/torch/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-st-'));

function known(): Map<string, RawTensor> {
  return new Map<string, RawTensor>([
    ['a.weight', { dtype: 'float32', shape: [2, 2], data: new Float32Array([1.5, -0, Number.MIN_VALUE, 3.4e38]) }],
    ['a.steps', { dtype: 'int64', shape: [], data: new BigInt64Array([9007199254740993n]) }],
    ['mask', { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) }],
    ['bytes', { dtype: 'uint8', shape: [1, 2], data: new Uint8Array([0, 255]) }],
    ['double', { dtype: 'float64', shape: [1], data: new Float64Array([Math.PI]) }],
  ]);
}

describe('safetensors', () => {
  it('encodes the documented layout: u64 header length, space-padded JSON, packed data', () => {
    const bytes = encodeSafetensors(known(), { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString());
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['a.weight']).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header['a.steps']).toEqual({ dtype: 'I64', shape: [], data_offsets: [16, 24] });
    expect(header.mask.dtype).toBe('BOOL');
    expect(bytes.length).toBe(8 + headerLength + 16 + 8 + 3 + 2 + 8);
  });

  it('reads back bit-exactly through files and tensors', async () => {
    const file = path.join(dir, 'known.safetensors');
    const source = known();
    const tensors = new Map([...source].map(([k, r]) => [k, tensor(r.data, r.shape, r.dtype)]));
    await saveSafetensors(file, tensors, { note: 'x' });
    const { tensors: loaded, metadata } = await loadSafetensors(file);
    expect(metadata).toEqual({ note: 'x' });
    for (const [name, raw] of source) {
      const t = loaded.get(name)!;
      expect(t.dtype).toBe(raw.dtype);
      expect(t.shape).toEqual(raw.shape);
      expect(Buffer.from(t.data().buffer).equals(Buffer.from(raw.data.buffer))).toBe(true);
    }
    for (const t of [...tensors.values(), ...loaded.values()]) t.dispose();
  });

  it('rejects malformed files with the file and the problem', () => {
    const good = encodeSafetensors(known());
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1), 'm.st')).toThrow(/^m\.st: .*(past the end|trailing)/);
    expect(() => decodeSafetensors(new Uint8Array(4), 'm.st')).toThrow(/^m\.st: too short/);
    const badJson = new Uint8Array(16);
    new DataView(badJson.buffer).setBigUint64(0, 8n, true);
    expect(() => decodeSafetensors(badJson, 'm.st')).toThrow(/not valid JSON/);
    const header = Buffer.from(JSON.stringify({ x: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
    const f16 = Buffer.concat([Buffer.alloc(8), header, Buffer.alloc(2)]);
    f16.writeBigUInt64LE(BigInt(header.length));
    expect(() => decodeSafetensors(f16, 'm.st')).toThrow(/tensor 'x' has unsupported dtype "F16"/);
    const gap = Buffer.from(JSON.stringify({ x: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }));
    const gapped = Buffer.concat([Buffer.alloc(8), gap, Buffer.alloc(2)]);
    gapped.writeBigUInt64LE(BigInt(gap.length));
    expect(() => decodeSafetensors(gapped, 'm.st')).toThrow(/tensor 'x' leaves a gap/);
  });

  it('reads no more than the header declares: a longer file, a device or a FIFO is refused', async () => {
    const good = encodeSafetensors(known());
    const longer = path.join(dir, 'longer.safetensors');
    writeFileSync(longer, good);
    appendFileSync(longer, new Uint8Array(2 ** 20));
    await expect(readSafetensors(longer)).rejects.toThrow(/longer\.safetensors: 1048576 trailing bytes after the last tensor$/);
    const cut = path.join(dir, 'cut.safetensors');
    writeFileSync(cut, good.subarray(0, good.length - 1));
    await expect(readSafetensors(cut)).rejects.toThrow(/cut\.safetensors: tensor .* past the end of the data/);
    await expect(readSafetensors('/dev/zero')).rejects.toThrow(/^\/dev\/zero: is a character device, not a regular file$/);
    const fifo = path.join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    await expect(loadSafetensors(fifo)).rejects.toThrow(/pipe\.safetensors: is a FIFO, not a regular file$/);
    await expect(readSafetensors(path.join(dir, 'none.safetensors'))).rejects.toThrow(/none\.safetensors: no such file$/);
  });

  it('loads a resnet20 state dict by PyTorch key names and names bad keys', async () => {
    const source = createModel('resnet20');
    const target = createModel('resnet20');
    const file = path.join(dir, 'resnet20.safetensors');
    const keys = [...source.stateDict().keys()];
    expect(keys).toContain('conv1.weight');
    expect(keys).toContain('layer2.0.downsample.0.weight');
    expect(keys).toContain('layer3.2.bn2.running_var');
    expect(keys).toContain('bn1.num_batches_tracked');
    expect(keys).toContain('fc.bias');
    await saveSafetensors(file, source.stateDict());
    const { tensors } = await loadSafetensors(file);
    target.loadStateDict(tensors);
    for (const [key, t] of target.stateDict()) {
      expect(Buffer.from(t.data().buffer).equals(Buffer.from(source.stateDict().get(key)!.data().buffer))).toBe(true);
    }
    const missing = new Map(tensors);
    missing.delete('layer1.0.bn1.weight');
    expect(() => target.loadStateDict(missing)).toThrow(/missing key 'layer1\.0\.bn1\.weight'/);
    expect(() => target.loadStateDict(missing, false)).not.toThrow();
    const extra = new Map(tensors).set('head.weight', tensors.get('fc.bias')!);
    expect(() => target.loadStateDict(extra)).toThrow(/unexpected key 'head\.weight'/);
    tidy(() => {
      const wrong = new Map(tensors).set('fc.weight', tensor(new Float32Array(64 * 100), [100, 64]));
      expect(() => target.loadStateDict(wrong)).toThrow(/key 'fc\.weight' has shape \[100, 64\], model expects \[10, 64\]/);
    });
    for (const t of tensors.values()) t.dispose();
    source.dispose();
    target.dispose();
  });

  it('reads a file whose tensors are stored in another order than their offsets', async () => {
    // PyTorch's writer sorts by dtype and name; the reader must not assume any order.
    const header = Buffer.from(JSON.stringify({ b: { dtype: 'U8', shape: [1], data_offsets: [1, 2] }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }));
    const bytes = Buffer.concat([Buffer.alloc(8), header, Buffer.from([7, 9])]);
    bytes.writeBigUInt64LE(BigInt(header.length));
    const file = path.join(dir, 'order.safetensors');
    writeFileSync(file, bytes);
    const { tensors } = decodeSafetensors(readFileSync(file), file);
    expect(Array.from(tensors.get('a')!.data as Uint8Array)).toEqual([7]);
    expect(Array.from(tensors.get('b')!.data as Uint8Array)).toEqual([9]);
  });
});
