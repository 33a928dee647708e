import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar, readTarArchive } from '../../src/data/tar.js';
import { ZipReader } from '../../src/data/zip.js';
import { bytes, tar, tarGz, tempDir, zip } from './formats.js';

describe('tar reader', () => {
  const files = [
    { name: 'a/one.bin', data: bytes(1000, 1) },
    { name: `${'deep/'.repeat(30)}long-name.bin`, data: bytes(513, 2) },
    { name: 'empty.txt', data: new Uint8Array(0) },
  ];

  it('reads files, GNU long names and empty members back exactly', async () => {
    for (const archive of [tar(files), tarGz(files)]) {
      const entries = await readTarArchive(archive, 'x.tar');
      expect(entries.map((e) => e.name)).toEqual(files.map((f) => f.name));
      entries.forEach((e, i) => expect(Buffer.compare(Buffer.from(e.data), Buffer.from(files[i]!.data))).toBe(0));
    }
  });

  it('rejects a truncated archive and a corrupt header naming the file', async () => {
    const whole = tar(files);
    expect(() => readTar(whole.subarray(0, 1200), 'cut.tar')).toThrow(/cut.tar: .*truncated/);
    const corrupt = Buffer.from(whole);
    corrupt[5] ^= 0xff;
    expect(() => readTar(corrupt, 'bad.tar')).toThrow(/bad.tar: .*checksum/);
    await expect(readTarArchive(tarGz(files).subarray(0, 100), 'cut.tar.gz')).rejects.toThrow(/cut.tar.gz: gzip/);
  });
});

describe('zip reader', () => {
  it('lists and inflates members; rejects a non-zip and a corrupt member', async () => {
    const dir = await tempDir('zip');
    const members = [{ name: 'top/' }, { name: 'top/a.bin', data: bytes(5000, 3) }, { name: 'b.txt', data: Buffer.from('hello') }];
    const file = path.join(dir, 'x.zip');
    await fs.writeFile(file, zip(members));
    const reader = await ZipReader.open(file);
    expect(reader.entries.map((e) => e.name)).toEqual(['top/', 'top/a.bin', 'b.txt']);
    expect(Buffer.compare(await reader.read(reader.entries[1]!), Buffer.from(members[1]!.data!))).toBe(0);
    expect((await reader.read(reader.entries[2]!)).toString()).toBe('hello');
    await reader.close();

    await fs.writeFile(path.join(dir, 'not.zip'), 'plain text');
    await expect(ZipReader.open(path.join(dir, 'not.zip'))).rejects.toThrow(/not.zip: not a zip archive/);

    const damaged = zip(members);
    damaged[30 + 'top/'.length + 30 + 'top/a.bin'.length + 10] ^= 0x55;
    await fs.writeFile(path.join(dir, 'bad.zip'), damaged);
    const bad = await ZipReader.open(path.join(dir, 'bad.zip'));
    await expect(bad.read(bad.entries[1]!)).rejects.toThrow(/bad.zip: member top\/a.bin/);
    await bad.close();
  });
});
