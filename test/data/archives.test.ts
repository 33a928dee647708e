import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTar, readTarArchive } from '../../src/data/tar.js';
import { ZipReader } from '../../src/data/zip.js';
import { bytes, tar, tarGz, tempDir, zip } from './formats.js';
import { declareSize } from './zip-sizes.js';

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

  it('stops inflating a member at its declared size and refuses one declaring more than the caller allows', async () => {
    const dir = await tempDir('zip-bomb');
    const zeros = new Uint8Array(8 * 2 ** 20);
    const honest = zip([{ name: 'big.bin', data: zeros }]);
    expect(honest.length).toBeLessThan(64 * 1024);

    const bomb = path.join(dir, 'bomb.zip');
    await fs.writeFile(bomb, declareSize(honest, 'big.bin', 4096));
    const understated = await ZipReader.open(bomb);
    await expect(understated.read(understated.entries[0]!)).rejects.toThrow(/bomb\.zip: member big\.bin inflates past its declared 4096 bytes/);
    await understated.close();

    const big = path.join(dir, 'big.zip');
    await fs.writeFile(big, honest);
    const stated = await ZipReader.open(big);
    await expect(stated.read(stated.entries[0]!, { bytes: 2 ** 20, what: 'a test member' })).rejects.toThrow(
      /big\.zip: member big\.bin declares 8388608 bytes; a test member is at most 1048576$/,
    );
    expect((await stated.read(stated.entries[0]!)).length).toBe(zeros.length);
    await stated.close();
  });

  it('refuses a device or FIFO instead of reading it', async () => {
    await expect(ZipReader.open('/dev/zero')).rejects.toThrow(/^\/dev\/zero: is a character device, not a regular file$/);
    const fifo = path.join(await tempDir('zip-fifo'), 'scene.zip');
    execFileSync('mkfifo', [fifo]);
    await expect(ZipReader.open(fifo)).rejects.toThrow(/scene\.zip: is a FIFO, not a regular file$/);
  });
});
