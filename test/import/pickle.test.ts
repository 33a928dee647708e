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

  it('names a legacy torch.save file as such', async () => {
    const file = path.join(work, 'legacy.pth');
    await writeFile(file, text('\x80\x02\x8a\x0alp\xfc\x9cF\xf9 j\xa8P\x19.'));
    await expect(readStateDict(file)).rejects.toThrow(/legacy \(pre-1\.6\) torch\.save file/);
  });
});
