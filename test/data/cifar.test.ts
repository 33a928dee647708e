import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { cifarRecords, tarGz, tempDir, writeFile } from './formats.js';

const CIFAR10_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The binary distribution with 2 records per batch file; returns what each split must read back as. */
function cifar10Files() {
  const files: { name: string; data: Uint8Array }[] = [];
  const expected = { train: [] as { label: number; pixels: Uint8Array }[], test: [] as { label: number; pixels: Uint8Array }[] };
  for (let b = 1; b <= 6; b++) {
    const labels = [[(b * 3) % 10], [(b * 7 + 1) % 10]];
    const { data, pixels } = cifarRecords(labels, b);
    const name = b <= 5 ? `data_batch_${b}.bin` : 'test_batch.bin';
    files.push({ name: `cifar-10-batches-bin/${name}`, data });
    labels.forEach((l, i) => expected[b <= 5 ? 'train' : 'test'].push({ label: l[0]!, pixels: pixels[i]! }));
  }
  files.push({ name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from(CIFAR10_NAMES.join('\n') + '\n\n') });
  return { files, expected };
}

function expectSamples(dataset: { length: number; get(i: number): { image: Uint8Array | Float32Array; label: number } }, expected: { label: number; pixels: Uint8Array }[]) {
  expect(dataset.length).toBe(expected.length);
  expected.forEach((e, i) => {
    const sample = dataset.get(i);
    expect(sample.label).toBe(e.label);
    expect(Buffer.compare(Buffer.from(sample.image), Buffer.from(e.pixels))).toBe(0);
  });
}

describe('CIFAR binary distributions', () => {
  it('reads CIFAR-10 from the extracted folder and from the .tar.gz exactly', async () => {
    const dir = await tempDir('cifar10');
    const { files, expected } = cifar10Files();
    for (const f of files) await writeFile(path.join(dir, 'extracted', f.name), f.data);
    await writeFile(path.join(dir, 'cifar-10-binary.tar.gz'), tarGz(files));
    for (const source of [path.join(dir, 'extracted'), path.join(dir, 'cifar-10-binary.tar.gz')]) {
      const data = await openData(`cifar10:${source}`, { cacheDir: false });
      expect(data.train.classes).toEqual(CIFAR10_NAMES);
      expect([data.train.channels, data.train.height, data.train.width]).toEqual([3, 32, 32]);
      expectSamples(data.train, expected.train);
      expectSamples(data.test, expected.test);
      expect(data.info.layout).toBe(source.endsWith('.gz') ? 'archive' : 'binary');
      expect(data.info.mean).toHaveLength(3);
    }
  });

  it('reads CIFAR-100 fine labels by default and coarse labels on request', async () => {
    const dir = await tempDir('cifar100');
    const train = cifarRecords([[3, 71], [19, 99], [0, 5]], 11);
    const test = cifarRecords([[7, 42]], 12);
    const fine = Array.from({ length: 100 }, (_, i) => `fine${i}`);
    const coarse = Array.from({ length: 20 }, (_, i) => `coarse${i}`);
    await writeFile(
      path.join(dir, 'cifar-100-binary.tar.gz'),
      tarGz([
        { name: 'cifar-100-binary/train.bin', data: train.data },
        { name: 'cifar-100-binary/test.bin', data: test.data },
        { name: 'cifar-100-binary/fine_label_names.txt', data: Buffer.from(fine.join('\n')) },
        { name: 'cifar-100-binary/coarse_label_names.txt', data: Buffer.from(coarse.join('\n')) },
      ]),
    );
    const spec = `cifar100:${path.join(dir, 'cifar-100-binary.tar.gz')}`;
    const byFine = await openData(spec);
    expect(byFine.train.classes).toEqual(fine);
    expectSamples(byFine.train, [71, 99, 5].map((label, i) => ({ label, pixels: train.pixels[i]! })));
    expectSamples(byFine.test, [{ label: 42, pixels: test.pixels[0]! }]);
    const byCoarse = await openData(`${spec}?labels=coarse`);
    expect(byCoarse.train.classes).toEqual(coarse);
    expect(Array.from(byCoarse.train.labels)).toEqual([3, 19, 0]);
    expect((await openData(spec, { labels: 'coarse' })).info.options.labels).toBe('coarse');
  });

  it('names the file that is truncated, out of range or missing', async () => {
    const dir = await tempDir('cifar-bad');
    const { files } = cifar10Files();
    for (const f of files) await writeFile(path.join(dir, f.name), f.data);
    const batch = path.join(dir, 'cifar-10-batches-bin', 'data_batch_3.bin');
    const whole = await fs.readFile(batch);
    await fs.writeFile(batch, whole.subarray(0, whole.length - 100));
    await expect(openData(`cifar10:${dir}`)).rejects.toThrow(/data_batch_3.bin: length 6046 is not a whole number of 3073-byte records/);
    const outOfRange = Buffer.from(whole);
    outOfRange[3073] = 12;
    await fs.writeFile(batch, outOfRange);
    await expect(openData(`cifar10:${dir}`)).rejects.toThrow(/data_batch_3.bin: record 1 has label 12/);
    await fs.rm(batch);
    await expect(openData(`cifar10:${dir}`)).rejects.toThrow(/data_batch_3.bin is missing/);
    await expect(openData(`cifar10:${path.join(dir, 'nowhere')}`)).rejects.toThrow(/nowhere: cifar10 data not found/);
  });
});
