import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { LOG_RANGE_DB, magnitudeToUint8, parsePhoenixHeader } from '../../src/data/phoenix.js';
import { bytes, encodeImage, phoenixFile, tempDir, writeFile } from './formats.js';

function magnitudes(rows: number, columns: number, seed: number): Float32Array {
  const raw = bytes(rows * columns, seed);
  return Float32Array.from(raw, (b, i) => (i === 0 ? 0 : (b + 1) / 37));
}

/** Expected 8-bit chip: linear scaling to the peak, then the centred size x size window. */
function expectedChip(mag: Float32Array, rows: number, columns: number, size: number): Uint8Array {
  let peak = 0;
  for (const m of mag) peak = Math.max(peak, m);
  const out = new Uint8Array(size * size);
  const top = Math.floor((rows - size) / 2);
  const left = Math.floor((columns - size) / 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sy = y + top;
      const sx = x + left;
      out[y * size + x] = sy >= 0 && sy < rows && sx >= 0 && sx < columns ? Math.round((255 * mag[sy * columns + sx]!) / peak) : 0;
    }
  }
  return out;
}

describe('raw MSTAR (Phoenix) files', () => {
  it('parses the header and scales magnitudes linearly or in decibels as documented', () => {
    const mag = Float32Array.from([0, 1, 10, 100, 1e-9]);
    const file = phoenixFile({ rows: 1, columns: 5, magnitude: mag, fields: { TargetType: 'bmp2_tank', DesiredDepression: '17' }, withPhase: true });
    const header = parsePhoenixHeader(file, 'f');
    expect([header.rows, header.columns, header.targetType, header.depression]).toEqual([1, 5, 'bmp2_tank', 17]);
    expect(header.dataOffset).toBe(header.headerLength);
    expect(Array.from(magnitudeToUint8(mag, 'linear'))).toEqual([0, 3, 26, 255, 0]);
    const db = (m: number) => Math.max(0, Math.round((255 * (LOG_RANGE_DB + 20 * Math.log10(m / 100))) / LOG_RANGE_DB));
    expect(Array.from(magnitudeToUint8(mag, 'log'))).toEqual([0, db(1), db(10), 255, 0]);
  });

  it('reads train/test folders, classes from TargetType, chips centre-cropped, exactly', async () => {
    const root = await tempDir('mstar-raw');
    const chips = [
      { split: 'TRAIN', type: 't72_tank', rows: 10, columns: 10 },
      { split: 'TRAIN', type: 'bmp2_tank', rows: 9, columns: 11 },
      { split: 'TRAIN', type: 't72_tank', rows: 6, columns: 7 },
      { split: 'TEST', type: 'bmp2_tank', rows: 8, columns: 8 },
    ];
    const expected: { split: string; label: number; pixels: Uint8Array }[] = [];
    for (const [i, c] of chips.entries()) {
      const mag = magnitudes(c.rows, c.columns, i + 1);
      const file = phoenixFile({ rows: c.rows, columns: c.columns, magnitude: mag, fields: { TargetType: c.type }, withPhase: i % 2 === 0 });
      await writeFile(path.join(root, c.split, '17_DEG', c.type.toUpperCase(), `HB0${i}.00${i}`), file);
      expected.push({ split: c.split, label: c.type === 'bmp2_tank' ? 0 : 1, pixels: expectedChip(mag, c.rows, c.columns, 8) });
    }
    const data = await openData(`mstar:${root}?size=8`, { cacheDir: path.join(root, '.cache') });
    expect(data.info.layout).toBe('phoenix');
    expect(data.train.classes).toEqual(['bmp2_tank', 't72_tank']);
    // Listing order is by path: TRAIN/17_DEG/BMP2_TANK/HB01 first, then the T72 files.
    const trainOrder = [expected[1]!, expected[0]!, expected[2]!];
    expect(Array.from(data.train.labels)).toEqual(trainOrder.map((e) => e.label));
    trainOrder.forEach((e, i) => expect(Array.from(data.train.get(i).image)).toEqual(Array.from(e.pixels)));
    expect(Array.from(data.test.get(0).image)).toEqual(Array.from(expected[3]!.pixels));
    const cached = await openData(`mstar:${root}?size=8`, { cacheDir: path.join(root, '.cache') });
    expect(Buffer.compare(Buffer.from(cached.train.images), Buffer.from(data.train.images))).toBe(0);
  });

  it('splits by depression angle without train/test folders and can take classes from folders', async () => {
    const root = await tempDir('mstar-depression');
    for (const [i, [cls, dep]] of ([['A', '17'], ['A', '15'], ['B', '17.00'], ['B', '15']] as const).entries()) {
      const file = phoenixFile({ rows: 4, columns: 4, magnitude: magnitudes(4, 4, i + 7), fields: { TargetType: `type_${cls}`, DesiredDepression: dep } });
      await writeFile(path.join(root, cls, `f${i}.raw`), file);
    }
    const byHeader = await openData(`mstar:${root}?size=4`, { cacheDir: false });
    expect([byHeader.train.length, byHeader.test.length]).toEqual([2, 2]);
    expect(byHeader.train.classes).toEqual(['type_A', 'type_B']);
    const byFolder = await openData(`mstar:${root}?size=4&classFrom=folder`, { cacheDir: false });
    expect(byFolder.train.classes).toEqual(['A', 'B']);
  });

  it('rejects broken Phoenix headers and truncated data with one line naming the file', async () => {
    const root = await tempDir('mstar-broken');
    const good = { rows: 4, columns: 4, magnitude: magnitudes(4, 4, 1), fields: { TargetType: 't', DesiredDepression: '17' } };
    const file = path.join(root, 'x.001');
    await fs.writeFile(path.join(root, 'y.002'), phoenixFile({ ...good, fields: { TargetType: 't', DesiredDepression: '15' } }));
    const cases: [Buffer, RegExp][] = [
      [Buffer.from(phoenixFile(good).toString('latin1').replace('NumberOfRows= 4', 'NumberOfRows= four'), 'latin1'), /x.001: Phoenix header NumberOfRows= "four" is not a positive integer/],
      [Buffer.from(phoenixFile(good).toString('latin1').replace('NumberOfColumns', 'NumberOfCols'), 'latin1'), /x.001: Phoenix header has no NumberOfColumns/],
      [Buffer.from(phoenixFile(good).toString('latin1').replace(/PhoenixHeaderLength= \d+/, 'PhoenixHeaderLength= 99999999'), 'latin1'), /x.001: Phoenix header PhoenixHeaderLength= "99999999" does not fit/],
      [phoenixFile(good).subarray(0, -10), /x.001: holds \d+ bytes, the 4x4 magnitudes need \d+ \(truncated\)/],
    ];
    for (const [content, message] of cases) {
      await fs.writeFile(file, content);
      await expect(openData(`mstar:${root}?size=4`, { cacheDir: false })).rejects.toThrow(message);
    }
  });
});

describe('MSTAR JPEG chips', () => {
  it('centre-crops chips of different sizes per class to one size', async () => {
    const root = await tempDir('mstar-jpeg');
    const sizes = { BMP2: [12, 12], D7: [15, 16] } as const;
    for (const split of ['train', 'test']) {
      for (const [cls, [h, w]] of Object.entries(sizes)) {
        await writeFile(path.join(root, split, cls, 'HB14931.jpeg'), await encodeImage(bytes(h * w, h), 1, h, w, 'jpeg'));
      }
    }
    const data = await openData(`mstar:${root}?size=10`, { cacheDir: false });
    expect(data.info.layout).toBe('jpeg');
    expect(data.train.classes).toEqual(['BMP2', 'D7']);
    expect([data.train.length, data.test.length, data.train.height, data.train.width]).toEqual([2, 2, 10, 10]);
    const reference = await sharp(path.join(root, 'train', 'D7', 'HB14931.jpeg')).toColourspace('b-w').raw().toBuffer();
    const chip = data.train.get(1).image;
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(chip[y * 10 + x]).toBe(reference[(y + 2) * 16 + x + 3]);
  });

  it('says what it expected in a folder holding neither layout', async () => {
    const root = await tempDir('mstar-empty');
    await writeFile(path.join(root, 'train', 'A', 'notes.txt'), 'hello');
    await expect(openData(`mstar:${root}`)).rejects.toThrow(/holds neither MSTAR JPEG chips .* nor raw Phoenix files/);
  });
});
