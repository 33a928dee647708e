import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { openData } from '../../src/data/index.js';
import { bytes, encodeImage, type ImageFormat, tempDir, writeFile } from './formats.js';

interface Written {
  label: number;
  pixels: Uint8Array;
}

/** train/test trees of 2 classes, 3 + 1 images each, in one format; returns the pixels in listing order. */
async function writeTree(root: string, channels: 1 | 3, format: ImageFormat, size = 6): Promise<Record<'train' | 'test', Written[]>> {
  const out: Record<'train' | 'test', Written[]> = { train: [], test: [] };
  const ext = format === 'jpeg' ? 'jpg' : format === 'tiff' ? 'tif' : 'png';
  let seed = 1;
  for (const split of ['train', 'test'] as const) {
    for (const [label, cls] of ['cat', 'dog'].entries()) {
      for (let i = 0; i < (split === 'train' ? 3 : 1); i++) {
        const pixels = bytes(channels * size * size, seed++);
        await writeFile(path.join(root, split, cls, `img${i}.${ext}`), await encodeImage(pixels, channels, size, size, format));
        out[split].push({ label, pixels });
      }
    }
  }
  return out;
}

function samples(dataset: { length: number; get(i: number): { image: Uint8Array | Float32Array; label: number } }) {
  return Array.from({ length: dataset.length }, (_, i) => dataset.get(i));
}

describe('image folders', () => {
  for (const format of ['png', 'tiff'] as const) {
    for (const channels of [1, 3] as const) {
      it(`reads ${channels === 1 ? 'grayscale' : 'RGB'} ${format} exactly, detecting the colour mode`, async () => {
        const root = await tempDir(`folder-${format}`);
        const written = await writeTree(root, channels, format);
        const data = await openData(`folder:${root}`, { cacheDir: path.join(root, '.cache') });
        expect(data.train.classes).toEqual(['cat', 'dog']);
        expect([data.train.channels, data.train.height, data.train.width]).toEqual([channels, 6, 6]);
        for (const split of ['train', 'test'] as const) {
          const got = samples(data[split]);
          expect(got.map((s) => s.label)).toEqual(written[split].map((w) => w.label));
          got.forEach((s, i) => expect(Buffer.compare(Buffer.from(s.image), Buffer.from(written[split][i]!.pixels))).toBe(0));
        }
      });
    }
  }

  it('decodes JPEG like libvips does and converts to the requested colour mode', async () => {
    const root = await tempDir('folder-jpeg');
    await writeTree(root, 3, 'jpeg');
    const data = await openData(`folder:${root}?color=gray`, { cacheDir: false });
    expect(data.train.channels).toBe(1);
    const file = path.join(root, 'train', 'cat', 'img0.jpg');
    const reference = await sharp(file).toColourspace('b-w').raw().toBuffer();
    expect(Buffer.compare(Buffer.from(data.train.get(0).image), reference)).toBe(0);
  });

  it('caches decoded images and decodes again when the folder changes', async () => {
    const root = await tempDir('folder-cache');
    const cacheDir = path.join(root, 'cache');
    const written = await writeTree(root, 1, 'png');
    const progress: string[] = [];
    await openData(`folder:${root}`, { cacheDir, onProgress: (p) => progress.push(`${p.stage} ${p.done}/${p.total}`) });
    expect(progress).toEqual([`decode ${path.basename(root)}/train 0/6`, `decode ${path.basename(root)}/train 6/6`, `decode ${path.basename(root)}/test 0/2`, `decode ${path.basename(root)}/test 2/2`]);
    const cacheFiles = await fs.readdir(cacheDir);
    expect(cacheFiles.length).toBe(2);
    // A cache hit serves the file's bytes: planting a marker in them proves the second load did not decode.
    const marker = written.test[1]!.pixels.at(-1)! ^ 0xff;
    for (const name of cacheFiles) {
      expect(name).toMatch(/^images-.*\.bin$/);
      const cached = await fs.readFile(path.join(cacheDir, name));
      cached[cached.length - 1] = marker;
      await fs.writeFile(path.join(cacheDir, name), cached);
    }
    const hit = await openData(`folder:${root}`, { cacheDir });
    expect(hit.train.get(hit.train.length - 1).image.at(-1)).toBe(marker);
    expect(hit.test.get(hit.test.length - 1).image.at(-1)).toBe(marker);

    const extra = bytes(36, 99);
    await writeFile(path.join(root, 'test', 'dog', 'zzz.png'), await encodeImage(extra, 1, 6, 6, 'png'));
    const changed = await openData(`folder:${root}`, { cacheDir });
    expect(changed.test.length).toBe(3);
    expect(Buffer.compare(Buffer.from(changed.test.get(2).image), Buffer.from(extra))).toBe(0);
    expect(changed.test.get(1).image.at(-1)).toBe(written.test[1]!.pixels.at(-1));

    const blocked = path.join(root, 'not-a-folder');
    await fs.writeFile(blocked, 'x');
    await expect(openData(`folder:${root}`, { cacheDir: blocked })).rejects.toThrow(/^cacheDir: cannot write the image cache in .*not-a-folder \(E[A-Z]+\)/);
  });

  it('brings images of other sizes to the size option, and names the file when sizes differ', async () => {
    const root = await tempDir('folder-size');
    await writeTree(root, 1, 'png');
    const odd = bytes(8 * 10, 5);
    await writeFile(path.join(root, 'train', 'dog', 'odd.png'), await encodeImage(odd, 1, 8, 10, 'png'));
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/odd.png: is 8x10 but .* is 6x6: set the size option/);
    const fitted = await openData(`folder:${root}?size=4`, { cacheDir: false });
    const oddIndex = fitted.train.length - 1;
    const image = fitted.train.get(oddIndex).image;
    // Centre 4x4 of an 8x10 image starts at row 2, column 3.
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) expect(image[y * 4 + x]).toBe(odd[(y + 2) * 10 + x + 3]);
  });

  it('gives one-line errors for a missing folder, missing splits, an empty class folder, corrupt and truncated images', async () => {
    const root = await tempDir('folder-errors');
    await expect(openData(`folder:${path.join(root, 'nope')}`)).rejects.toThrow(/nope: image folder not found/);
    await expect(openData(`folder:${root}`)).rejects.toThrow(/holds neither train\/ and test\/ \(or val\/\) folders, nor train.txt and val.txt lists, nor class folders$/);
    await writeTree(root, 1, 'png');
    await fs.mkdir(path.join(root, 'train', 'empty'));
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/train\/empty: class folder holds no JPEG\/PNG\/TIFF images/);
    await fs.rmdir(path.join(root, 'train', 'empty'));
    await fs.writeFile(path.join(root, 'train', 'cat', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/broken.png: cannot decode image/);
    await fs.rm(path.join(root, 'train', 'cat', 'broken.png'));
    const jpeg = await encodeImage(bytes(36, 3), 1, 6, 6, 'jpeg');
    await fs.writeFile(path.join(root, 'test', 'dog', 'cut.jpg'), jpeg.subarray(0, jpeg.length - 20));
    await expect(openData(`folder:${root}`, { cacheDir: false })).rejects.toThrow(/cut.jpg: cannot decode image \((.*premature end of JPEG image|corrupt or truncated data)\)$/);
  });
});
