import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ArrayDataset, openData } from '../../src/data/index.js';
import { stratifiedSplit } from '../../src/data/split.js';
import { bytes, encodeImage, tempDir, writeFile, zip } from './formats.js';
import { declareSize } from './zip-sizes.js';

/** 8-bit chip padded/cropped around its centre to size x size, as fit=center does. */
function centre(pixels: Uint8Array, h: number, w: number, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const top = Math.floor((h - size) / 2);
  const left = Math.floor((w - size) / 2);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sy = y + top;
      const sx = x + left;
      if (sy >= 0 && sy < h && sx >= 0 && sx < w) out[y * size + x] = pixels[sy * w + sx]!;
    }
  }
  return out;
}

function allSamples(...sets: ArrayDataset[]): { label: number; key: string }[] {
  return sets.flatMap((d) => Array.from({ length: d.length }, (_, i) => ({ label: d.labels[i]!, key: Buffer.from(d.get(i).image).toString('hex') })));
}

interface Chip {
  type: string;
  x: number;
  y: number;
  pol?: 'vh' | 'vv';
  h: number;
  w: number;
  pixels: Uint8Array;
}

async function sceneZip(chips: Chip[], top: string): Promise<Buffer> {
  const members: { name: string; data?: Uint8Array }[] = [];
  if (top) members.push({ name: `${top}/` });
  for (const folder of ['Patch', 'Patch_Cal', 'Patch_Uint8']) members.push({ name: `${top}${top && '/'}${folder}/` });
  for (const c of chips) {
    const suffix = c.pol ? `_${c.pol}` : '';
    const tif = await encodeImage(c.pixels, 1, c.h, c.w, 'tiff');
    members.push({ name: `${top}${top && '/'}Patch_Uint8/Visual_${c.type}_x${c.x}_y${c.y}${suffix}.tif`, data: tif });
    members.push({ name: `${top}${top && '/'}Patch/${c.type}_x${c.x}_y${c.y}${suffix}.tif`, data: tif });
  }
  members.push({ name: `${top}${top && '/'}Ship.xml`, data: Buffer.from('<ShipList></ShipList>') });
  return zip(members);
}

describe('OpenSARShip scene zips', () => {
  let seed = 1;
  const chip = (type: string, x: number, y: number, pol: 'vh' | 'vv' | undefined, h: number, w: number): Chip => ({ type, x, y, pol, h, w, pixels: bytes(h * w, seed++) });
  const dual = [
    chip('Cargo', 1, 2, 'vh', 5, 7),
    chip('Cargo', 1, 2, 'vv', 5, 7),
    chip('Tanker', 3, 4, 'vh', 9, 8),
    chip('Tanker', 3, 4, 'vv', 9, 8),
    chip('Other Type', 5, 6, 'vh', 6, 6),
    chip('Other Type', 5, 6, 'vv', 6, 6),
    chip('Tug', 7, 8, 'vh', 4, 4),
    chip('Cargo', 15, 16, 'vh', 6, 6),
    chip('Cargo', 15, 16, 'vv', 6, 6),
  ];
  const single = [chip('Cargo', 9, 10, undefined, 6, 6), chip('Cargo', 11, 12, undefined, 3, 5), chip('Tanker', 13, 14, undefined, 7, 6)];
  const expectedOf = (c: Chip, label: number) => ({ label, key: Buffer.from(centre(c.pixels, c.h, c.w, 6)).toString('hex') });

  async function scenes(): Promise<string> {
    const dir = await tempDir('opensarship');
    const dualScene = 'S1A_IW_GRDH_1SDV_20150823T221233_X';
    await writeFile(path.join(dir, `${dualScene}.zip`), await sceneZip(dual, dualScene));
    await writeFile(path.join(dir, 'S1A_IW_GRDH_1SSV_20160131T204259_Y.zip'), await sceneZip(single, ''));
    return dir;
  }

  it('reads VV chips straight from both zip layouts, maps to Cargo/Tanker/Other, exactly', async () => {
    const dir = await scenes();
    const data = await openData(`opensarship:${dir}?size=6&testFraction=0.4`);
    expect(data.train.classes).toEqual(['Cargo', 'Tanker', 'Other']);
    expect(data.train.channels).toBe(1);
    const got = allSamples(data.train, data.test);
    const want = [expectedOf(dual[1]!, 0), expectedOf(dual[3]!, 1), expectedOf(dual[5]!, 2), expectedOf(single[0]!, 0), expectedOf(single[1]!, 0), expectedOf(single[2]!, 1), expectedOf(dual[8]!, 0)];
    expect(got.sort((a, b) => a.key.localeCompare(b.key))).toEqual(want.sort((a, b) => a.key.localeCompare(b.key)));
    expect(data.test.length).toBe(3);
  });

  it('stacks VH and VV as two channels, and keeps every AIS type on request', async () => {
    const dir = await scenes();
    const both = await openData(`opensarship:${dir}?size=6&polarization=both`);
    expect(both.train.channels).toBe(2);
    const samples = allSamples(both.train, both.test);
    expect(samples).toHaveLength(4);
    const pairs = ([[dual[0]!, dual[1]!, 0], [dual[2]!, dual[3]!, 1], [dual[4]!, dual[5]!, 2], [dual[7]!, dual[8]!, 0]] as const).map(([vh, vv, label]) => ({
      label,
      key: Buffer.concat([centre(vh.pixels, vh.h, vh.w, 6), centre(vv.pixels, vv.h, vv.w, 6)]).toString('hex'),
    }));
    expect(samples.sort((a, b) => a.key.localeCompare(b.key))).toEqual(pairs.sort((a, b) => a.key.localeCompare(b.key)));

    const vh = await openData(`opensarship:${dir}`, { polarization: 'vh', shipClasses: 'all', size: 6 });
    expect(vh.train.classes).toEqual(['Cargo', 'Other Type', 'Tanker', 'Tug']);
    expect(vh.train.length + vh.test.length).toBe(5);
  });

  it('splits deterministically by seed and names a zip without chips', async () => {
    const dir = await scenes();
    const a = await openData(`opensarship:${dir}?size=6`, { seed: 3 });
    const b = await openData(`opensarship:${dir}?size=6`, { seed: 3 });
    expect(Buffer.compare(Buffer.from(a.test.images), Buffer.from(b.test.images))).toBe(0);
    await writeFile(path.join(dir, 'empty.zip'), zip([{ name: 'Patch/' }, { name: 'readme.txt', data: Buffer.from('x') }]));
    await expect(openData(`opensarship:${dir}`)).rejects.toThrow(/empty.zip: holds no Patch_Uint8\/.* chips/);
  });

  it('refuses a chip declaring more than any chip holds, and one inflating past its declared size, naming zip and member', async () => {
    const chipName = 'Patch_Uint8/Visual_Cargo_x1_y2_vv.tif';
    const members = [{ name: 'Patch_Uint8/' }, { name: chipName, data: new Uint8Array(4 * 2 ** 20) }];
    const huge = await tempDir('opensarship-huge');
    await writeFile(path.join(huge, 'S1A_IW_GRDH_1SDV_20150823T221233_H.zip'), declareSize(zip(members), chipName, 2 ** 30));
    await expect(openData(`opensarship:${huge}?size=6`)).rejects.toThrow(
      /_H\.zip: member Patch_Uint8\/Visual_Cargo_x1_y2_vv\.tif declares 1073741824 bytes; an OpenSARShip chip is at most 16777216$/,
    );
    const bomb = await tempDir('opensarship-bomb');
    await writeFile(path.join(bomb, 'S1A_IW_GRDH_1SDV_20150823T221233_B.zip'), declareSize(zip(members), chipName, 1000));
    await expect(openData(`opensarship:${bomb}?size=6`)).rejects.toThrow(
      /_B\.zip: member Patch_Uint8\/Visual_Cargo_x1_y2_vv\.tif inflates past its declared 1000 bytes/,
    );
  });
});

describe('FUSAR-Ship folders', () => {
  it('takes categories (or sub-category paths) as classes and splits each class by seed', async () => {
    const root = await tempDir('fusar');
    const layout: [string, number][] = [
      ['Cargo/BulkCarrier', 4],
      ['Cargo/ContainerShip', 2],
      ['Fishing/Trawler', 5],
      ['Tanker/Tanker', 3],
    ];
    const written = new Map<string, string[]>();
    let seed = 50;
    for (const [folder, count] of layout) {
      for (let i = 0; i < count; i++) {
        const pixels = bytes(64, seed++);
        await writeFile(path.join(root, ...folder.split('/'), `Ship_C01S0${i}N0${i}.tiff`), await encodeImage(pixels, 1, 8, 8, 'tiff'));
        const key = folder.split('/')[0]!;
        written.set(key, [...(written.get(key) ?? []), Buffer.from(pixels).toString('hex')]);
        written.set(folder, [...(written.get(folder) ?? []), Buffer.from(pixels).toString('hex')]);
      }
    }
    const data = await openData(`fusar:${root}?size=8&fit=center&testFraction=0.25`, { cacheDir: path.join(root, '.cache') });
    expect(data.train.classes).toEqual(['Cargo', 'Fishing', 'Tanker']);
    expect([data.train.length, data.test.length]).toEqual([10, 4]);
    const got = allSamples(data.train, data.test);
    for (const [label, cls] of data.train.classes.entries()) {
      expect(got.filter((s) => s.label === label).map((s) => s.key).sort()).toEqual([...written.get(cls)!].sort());
    }
    const chosen = await openData(`fusar:${root}`, { classes: ['Cargo/BulkCarrier', 'Tanker'], size: 8, fit: 'center', cacheDir: false });
    expect(chosen.train.classes).toEqual(['Cargo/BulkCarrier', 'Tanker']);
    expect(allSamples(chosen.train, chosen.test).filter((s) => s.label === 0).map((s) => s.key).sort()).toEqual([...written.get('Cargo/BulkCarrier')!].sort());
    await expect(openData(`fusar:${root}?classes=Cargo,Submarine`, { cacheDir: false })).rejects.toThrow(/classes: "Submarine" is not a folder/);
    await fs.mkdir(path.join(root, 'Empty'));
    await expect(openData(`fusar:${root}`, { cacheDir: false })).rejects.toThrow(/Empty: class folder holds no/);
  });

  it('keeps at least one test item per class of two or more, and the split is a function of the seed', () => {
    const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
    const split = stratifiedSplit(labels, 0.2, 7);
    expect(split.test.map((i) => labels[i])).toEqual([0, 0, 1]);
    expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    expect(stratifiedSplit(labels, 0.2, 7)).toEqual(split);
    expect(stratifiedSplit(labels, 0.2, 8)).not.toEqual(split);
  });
});
