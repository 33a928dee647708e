/**
 * Reads the real data beside the repository (DST_DATA, default ../shared/data)
 * when it is there; skipped with a message otherwise. Decoded images go to the
 * default cache (.cache/dst, git-ignored), so later runs skip the decoding.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataRoot = path.resolve(repoRoot, process.env.DST_DATA ?? path.join('..', 'shared', 'data'));
const mstar = path.join(dataRoot, 'mstar-soc');
const opensarship = path.join(dataRoot, 'opensarship-subset');

function countBy(labels: Int32Array, classes: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) out[classes[l]!] = (out[classes[l]!] ?? 0) + 1;
  return out;
}

describe('real data', () => {
  it.skipIf(!existsSync(mstar))(`MSTAR SOC from ${mstar}: 2746 train, 2425 test, 10 classes, 128x128`, async () => {
    const data = await openData(`mstar:${mstar}`, { cacheDir: path.join(repoRoot, '.cache', 'dst') });
    expect(data.info.layout).toBe('jpeg');
    expect(data.train.classes).toEqual(['2S1', 'BMP2', 'BRDM_2', 'BTR60', 'BTR70', 'D7', 'T62', 'T72', 'ZIL131', 'ZSU_23_4']);
    expect([data.train.length, data.test.length]).toEqual([2746, 2425]);
    expect([data.train.channels, data.train.height, data.train.width]).toEqual([1, 128, 128]);
    expect(countBy(data.train.labels, data.train.classes).T62).toBe(298);
  });

  it.skipIf(!existsSync(opensarship))(`OpenSARShip subset from ${opensarship}: 351 ships in Cargo/Tanker/Other`, async () => {
    const data = await openData(`opensarship:${opensarship}`);
    const all = { ...countBy(data.train.labels, data.train.classes) };
    for (const [k, v] of Object.entries(countBy(data.test.labels, data.test.classes))) all[k] = (all[k] ?? 0) + v;
    expect(all).toEqual({ Cargo: 194, Tanker: 112, Other: 45 });
    expect([data.train.channels, data.train.height, data.train.width]).toEqual([1, 64, 64]);
    const both = await openData(`opensarship:${opensarship}?polarization=both`);
    expect(both.train.length + both.test.length).toBe(171);
    expect(both.train.channels).toBe(2);
  });

  for (const folder of [mstar, opensarship]) {
    if (!existsSync(folder)) console.warn(`real-data test skipped: ${folder} not found (set DST_DATA to the data folder)`);
  }
});
