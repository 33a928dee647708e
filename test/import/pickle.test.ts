import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpickle, type PyGlobal } from '../../src/import/pickle.js';
import { readStateDict } from '../../src/import/state-dict.js';
import { writeFile, zip } from '../data/formats.js';
import { dst } from '../cli/run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-pickle-'));

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** BINUNICODE of a short string. */
function unicode(s: string): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x58;
  head.writeUInt32LE(Buffer.byteLength(s), 1);
  return Buffer.concat([head, Buffer.from(s, 'utf8')]);
}

/** A torch.save-style zip whose data.pkl is `pickle`. */
async function torchFile(name: string, pickle: Buffer): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, zip([{ name: 'evil/data.pkl', data: pickle }, { name: 'evil/byteorder', data: text('little') }]));
  return file;
}

const none = () => undefined;
const options = { source: 'test.pkl', globals: none, persistentLoad: () => null };

describe('the restricted unpickler', () => {
  it('reads the opcodes of a state dict', () => {
    const ordered: PyGlobal = { kind: 'global', module: 'collections', name: 'OrderedDict', call: () => new Map() };
    // OrderedDict() then SETITEMS: a tuple of BININT1/2/BININT (memoised), a LONG1, booleans and None, and the memoised tuple again.
    const pickle = Buffer.concat([
      text('\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01('),
      unicode('a'),
      text('K\x05M\x00\x01J\xff\xff\xff\xff\x87q\x02'),
      unicode('b'),
      text('\x8a\x02\x00\x80\x88\x89\x86N\x87'),
      unicode('c'),
      text('h\x02u.'),
    ]);
    const value = unpickle(pickle, { ...options, globals: (m, n) => (m === 'collections' && n === 'OrderedDict' ? ordered : undefined) });
    expect(value).toEqual(
      new Map<unknown, unknown>([
        ['a', [5, 256, -1]],
        ['b', [-32768, [true, false], null]],
        ['c', [5, 256, -1]],
      ]),
    );
  });

  const refusals: [string, Buffer, RegExp][] = [
    ['a GLOBAL of os.system', text('\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00ls\x85R.'), /global os\.system is not allowed in a state dict \(refused, nothing was executed\) at byte 2$/],
    ['a GLOBAL of builtins.eval', text('\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.'), /global builtins\.eval is not allowed/],
    ['a STACK_GLOBAL of builtins.exec', text('\x80\x04\x8c\x08builtins\x8c\x04exec\x93.'), /global builtins\.exec is not allowed/],
    ['the INST opcode', text('\x80\x02(ios\nsystem\nX\x02\x00\x00\x00ls.'), /opcode INST \(0x69\) is not allowed in a state dict \(refused, nothing was executed\) at byte 3$/],
    ['an unknown opcode', text('\x80\x02\xff.'), /opcode unknown \(0xff\) is not allowed/],
    ['a pickle that ends early', text('\x80\x02X\x09\x00\x00\x00ab'), /pickle ends early at byte 2$/],
  ];
  for (const [what, pickle, message] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => unpickle(pickle, options)).toThrow(message);
    });
  }

  it('refuses a malicious torch.save file with one line through the library and the CLI', async () => {
    const file = await torchFile('evil.pth', text('\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00ls\x85R.'));
    await expect(readStateDict(file)).rejects.toThrow(`${file}:evil/data.pkl: global os.system is not allowed`);
    const r = dst(['import', file, '--model', 'resnet20', '--out', path.join(work, 'evil-run')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^dst: error: .*evil\.pth:evil\/data\.pkl: global os\.system is not allowed in a state dict \(refused, nothing was executed\) at byte 2\n$/);
    expect(r.stdout).toBe('');
  });

  /** `name` -> _rebuild_tensor_v2 of storage '0' (8 elements of `storageType`) at `offset` with the given size and stride opcodes. */
  const rebuild = (name: string, offset: number, size: string, stride: string, storageType = 'FloatStorage'): Buffer =>
    Buffer.concat([
      unicode(name),
      text('ctorch._utils\n_rebuild_tensor_v2\n(('),
      unicode('storage'),
      text(`ctorch\n${storageType}\n`),
      unicode('0'),
      unicode('cpu'),
      text(`K\x08tQK${String.fromCharCode(offset)}${size}${stride}\x89ccollections\nOrderedDict\n)RtR`),
    ]);
  const floats = (order: 'little' | 'big'): Buffer => {
    const storage = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) (order === 'little' ? storage.writeFloatLE(i, 4 * i) : storage.writeFloatBE(i, 4 * i));
    return storage;
  };
  const saved = async (name: string, pickle: Buffer, order: 'little' | 'big' = 'little', storage = floats(order)): Promise<string> => {
    const file = path.join(work, name);
    await writeFile(file, zip([{ name: 'm/data.pkl', data: pickle }, { name: 'm/byteorder', data: text(order) }, { name: 'm/data/0', data: storage }]));
    return file;
  };

  it('honours storage offset, size and stride, shared storages and big-endian files', async () => {
    // {'t': storage[2:8] viewed as 2x3 with strides (1, 2), 'u': the same storage as a flat vector}.
    const pickle = Buffer.concat([
      text('\x80\x02ccollections\nOrderedDict\n)R('),
      rebuild('t', 2, 'K\x02K\x03\x86', 'K\x01K\x02\x86'),
      rebuild('u', 0, 'K\x08\x85', 'K\x01\x85'),
      text('u.'),
    ]);
    for (const order of ['little', 'big'] as const) {
      const { tensors } = await readStateDict(await saved(`strided-${order}.pth`, pickle, order));
      expect(tensors.get('t')).toMatchObject({ dtype: 'float32', shape: [2, 3] });
      expect([...(tensors.get('t')!.data as Float32Array)]).toEqual([2, 4, 6, 3, 5, 7]);
      expect([...(tensors.get('u')!.data as Float32Array)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });

  it('finds the state dict inside a checkpoint dict and ignores the per-module _metadata', async () => {
    // {'epoch': 3, 'state_dict': OrderedDict(w=...) with _metadata set by BUILD}, as training scripts save checkpoints.
    const pickle = Buffer.concat([
      text('\x80\x02}('),
      unicode('epoch'),
      text('K\x03'),
      unicode('state_dict'),
      text('ccollections\nOrderedDict\n)R('),
      rebuild('w', 0, 'K\x04\x85', 'K\x01\x85'),
      text('u}'),
      unicode('_metadata'),
      text('ccollections\nOrderedDict\n)Rsbu.'),
    ]);
    const source = await readStateDict(await saved('checkpoint.pth', pickle));
    expect(source.entry).toBe('state_dict');
    expect([...source.tensors.keys()]).toEqual(['w']);
    const bare = Buffer.concat([text('\x80\x02}('), unicode('epoch'), text('K\x03u.')]);
    await expect(readStateDict(await saved('no-weights.pth', bare))).rejects.toThrow(/holds no state dict \(a dict of tensors, at the top or under state_dict\/.*\); top-level keys: epoch$/);
  });

  it('names a tensor of a dtype it does not import', async () => {
    const pickle = Buffer.concat([text('\x80\x02ccollections\nOrderedDict\n)R('), rebuild('half', 0, 'K\x08\x85', 'K\x01\x85', 'HalfStorage'), text('u.')]);
    await expect(readStateDict(await saved('half.pth', pickle, 'little', Buffer.alloc(16)))).rejects.toThrow(/tensor 'half' is a torch\.HalfStorage; dst imports float32 \(FloatStorage\) and int64 \(LongStorage\) tensors/);
  });

  it('survives containers shared many times over or holding themselves, and tensors past their storage', async () => {
    // A list appended to itself, and a tuple of 40 nested pairs of one memoised list (2^40 paths to it).
    const cyclic = text('\x80\x02]q\x00h\x00a.');
    await expect(readStateDict(await saved('cyclic.pth', cyclic))).rejects.toThrow(/holds no state dict/);
    const doubling = Buffer.concat([text('\x80\x02]'), ...Array.from({ length: 40 }, () => text('q\x00h\x00\x86')), text('.')]);
    await expect(readStateDict(await saved('doubling.pth', doubling))).rejects.toThrow(/holds no state dict/);
    const past = Buffer.concat([text('\x80\x02ccollections\nOrderedDict\n)R('), rebuild('w', 4, 'K\x02K\x03\x86', 'K\x03K\x01\x86'), text('u.')]);
    await expect(readStateDict(await saved('past.pth', past))).rejects.toThrow(/tensor 'w' of size \[2, 3\] reads past its storage of 8 elements$/);
  });

  it('names a legacy torch.save file as such', async () => {
    const file = path.join(work, 'legacy.pth');
    await writeFile(file, text('\x80\x02\x8a\x0alp\xfc\x9cF\xf9 j\xa8P\x19.'));
    await expect(readStateDict(file)).rejects.toThrow(/legacy \(pre-1\.6\) torch\.save file/);
  });
});
