import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { bytes, encodeImage, tempDir, writeFile } from './formats.js';

const CLASSES = ['BMP2', 'BTR70', 'T72'];

/** Writes a 4x4 grayscale PNG whose first pixel is `marker`, so a sample can be traced back to its file. */
async function writeChip(file: string, marker: number): Promise<void> {
  const pixels = bytes(16, marker + 1);
  pixels[0] = marker;
  await writeFile(file, await encodeImage(pixels, 1, 4, 4, 'png'));
}

/** `<split>/<class>/<n>.png` with `perClass` images; markers count up from `firstMarker`. */
async function writeClassFolders(root: string, perClass: number, firstMarker: number): Promise<number[]> {
  const markers: number[] = [];
  let marker = firstMarker;
  for (const cls of CLASSES) for (let i = 0; i < perClass; i++) {
    await writeChip(path.join(root, cls, `${i}.png`), marker);
    markers.push(marker++);
  }
  return markers;
}

function contents(dataset: { length: number; get(i: number): { image: Uint8Array | Float32Array; label: number } }): [number, number][] {
  return Array.from({ length: dataset.length }, (_, i) => {
    const s = dataset.get(i);
    return [s.image[0]!, s.label];
  });
}

describe('image-folder layouts', () => {
  for (const testName of ['test', 'val', 'validation']) {
    it(`reads train/ with ${testName}/ as the test split and says so`, async () => {
      const root = await tempDir(`layout-${testName}`);
      await writeClassFolders(path.join(root, 'train'), 2, 0);
      await writeClassFolders(path.join(root, testName), 1, 100);
      const data = await openData(`folder:${root}`, { cacheDir: false });
      expect(data.train.classes).toEqual(CLASSES);
      expect(contents(data.test)).toEqual([[100, 0], [101, 1], [102, 2]]);
      expect(data.test.name).toBe(`${path.basename(root)}/${testName}`);
      expect(data.info.layout).toBe(`folder: train/ + ${testName}/ folders`);
      expect(data.info.options).toMatchObject({ layout: 'split', testSplit: testName });
    });
  }

  it('prefers test/ over val/ unless testSplit chooses', async () => {
    const root = await tempDir('layout-both');
    await writeClassFolders(path.join(root, 'train'), 1, 0);
    await writeClassFolders(path.join(root, 'val'), 1, 50);
    await writeClassFolders(path.join(root, 'test'), 1, 100);
    expect(contents((await openData(`folder:${root}`, { cacheDir: false })).test)[0]).toEqual([100, 0]);
    const val = await openData(`folder:${root}?testSplit=val`, { cacheDir: false });
    expect(contents(val.test)[0]).toEqual([50, 0]);
    expect(val.info.layout).toBe('folder: train/ + val/ folders');
    await fs.rm(path.join(root, 'val'), { recursive: true });
    await expect(openData(`folder:${root}?testSplit=validation`, { cacheDir: false })).rejects.toThrow(/has no validation\/ folder \(testSplit=validation\)$/);
    await expect(openData(`folder:${root}?testFraction=0.3`, { cacheDir: false })).rejects.toThrow(/^testFraction: applies to the tree layout, and .* is read as a split layout$/);
  });

  it('splits a single class tree per class by a seeded fraction', async () => {
    const root = await tempDir('layout-tree');
    const markers = await writeClassFolders(root, 10, 0);
    const data = await openData(`folder:${root}?testFraction=0.3&seed=4`, { cacheDir: false });
    expect(data.info.layout).toBe('folder: class folders, 30% of each class held out for test by seed 4');
    expect(data.info.options).toMatchObject({ layout: 'tree', testFraction: 0.3, seed: 4 });
    const train = contents(data.train);
    const test = contents(data.test);
    expect(test.length).toBe(9);
    expect(CLASSES.map((_, c) => test.filter(([, l]) => l === c).length)).toEqual([3, 3, 3]);
    // Every image lands in exactly one split, with its folder's label.
    expect([...train, ...test].map(([m]) => m).sort((a, b) => a - b)).toEqual(markers);
    for (const [m, label] of [...train, ...test]) expect(label).toBe(Math.floor(m / 10));
    // The same seed gives the same split; another seed another one.
    expect(contents((await openData(`folder:${root}?testFraction=0.3&seed=4`, { cacheDir: false })).test)).toEqual(test);
    expect(contents((await openData(`folder:${root}?testFraction=0.3&seed=5`, { cacheDir: false })).test)).not.toEqual(test);
    // The default holds out 20%.
    expect((await openData(`folder:${root}`, { cacheDir: false })).test.length).toBe(6);
  });

  it('reads Caffe/PyTorch list files with an optional class-names file', async () => {
    const root = await tempDir('layout-list');
    for (let i = 0; i < 6; i++) await writeChip(path.join(root, 'images', `chip ${i}.png`), i);
    await writeFile(path.join(root, 'train.txt'), '# path label\nimages/chip 0.png 0\nimages/chip 1.png 1\n\nimages/chip 2.png 2\r\nimages/chip 3.png 0\n');
    await writeFile(path.join(root, 'val.txt'), 'images/chip 4.png 2\nimages/chip 5.png 1\n');
    const numbered = await openData(`folder:${root}`, { cacheDir: false });
    expect(numbered.train.classes).toEqual(['0', '1', '2']);
    expect(contents(numbered.train)).toEqual([[0, 0], [1, 1], [2, 2], [3, 0]]);
    expect(contents(numbered.test)).toEqual([[4, 2], [5, 1]]);
    expect(numbered.info.layout).toBe('folder: lists train.txt + val.txt');
    expect(numbered.info.options).toMatchObject({ layout: 'list', trainList: 'train.txt', testList: 'val.txt', imageRoot: '.' });

    await writeFile(path.join(root, 'classes.txt'), `${CLASSES.join('\n')}\n`);
    const named = await openData(`folder:${root}`, { cacheDir: false });
    expect(named.train.classes).toEqual(CLASSES);
    expect(named.info.layout).toBe('folder: lists train.txt + val.txt, class names from classes.txt');

    // Lists elsewhere, paths relative to another image root.
    await writeFile(path.join(root, 'lists', 'a.txt'), 'chip 0.png 0\nchip 1.png 1\nchip 2.png 2\n');
    await writeFile(path.join(root, 'lists', 'b.txt'), 'chip 5.png 1\n');
    const moved = await openData(`folder:${root}?trainList=lists/a.txt&testList=lists/b.txt&imageRoot=images&classNames=classes.txt`, { cacheDir: false });
    expect(contents(moved.test)).toEqual([[5, 1]]);
    expect(moved.test.name).toBe(`${path.basename(root)}/b`);
  });

  it('names the file and line of a bad list entry', async () => {
    const root = await tempDir('layout-list-errors');
    await writeChip(path.join(root, 'a.png'), 1);
    await writeFile(path.join(root, 'val.txt'), 'a.png 0\n');
    const train = path.join(root, 'train.txt');
    const cases: [string, RegExp][] = [
      ['a.png 0\nmissing.png 1\n', /train\.txt:2: image 'missing\.png' not found \(looked for .*missing\.png\)$/],
      ['a.png 0\n\na.png cat\n', /train\.txt:3: label 'cat' is not a non-negative integer$/],
      ['a.png 0\na.png -1\n', /train\.txt:2: label '-1' is not a non-negative integer$/],
      ['a.png\n', /train\.txt:1: expected 'path label', got 'a\.png'$/],
      ['# nothing\n', /train\.txt: lists no images$/],
    ];
    for (const [text, message] of cases) {
      await writeFile(train, text);
      await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(message);
    }
    await writeFile(train, 'a.png 0\na.png 1\n');
    await writeFile(path.join(root, 'val.txt'), 'a.png 0\na.png 2\n');
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/val\.txt:2: label 2 is out of range: the training list's labels go up to 1$/);
    await writeFile(path.join(root, 'names.txt'), 'a\nb\na\n');
    await expect(openData(`folder:${root}?classNames=names.txt`, { cacheDir: false })).rejects.toThrow(/names\.txt:3: class 'a' is already named on line 1$/);
    await fs.rm(path.join(root, 'val.txt'));
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/needs a test\.txt, val\.txt or validation\.txt list beside train\.txt/);
    await expect(openData(`folder:${root}?layout=list&testFraction=0.5`, { cacheDir: false })).rejects.toThrow(/^testFraction: applies to the tree layout/);
    await expect(openData(`folder:${root}?layout=grid`)).rejects.toThrow(/^layout: /);
  });

  it('gives mstar JPEG chips the same layouts', async () => {
    const split = await tempDir('layout-mstar-val');
    await writeClassFolders(path.join(split, 'TRAIN'), 2, 0);
    await writeClassFolders(path.join(split, 'VALIDATION'), 1, 100);
    const fromVal = await openData(`mstar:${split}?size=4`, { cacheDir: false });
    expect(fromVal.info.layout).toBe('jpeg');
    expect(fromVal.test.name).toBe('mstar/validation');
    expect(contents(fromVal.test)).toEqual([[100, 0], [101, 1], [102, 2]]);

    const tree = await tempDir('layout-mstar-tree');
    await writeClassFolders(tree, 5, 0);
    const fromTree = await openData(`mstar:${tree}?size=4`, { cacheDir: false });
    expect([fromTree.train.length, fromTree.test.length]).toEqual([12, 3]);
  });
});
