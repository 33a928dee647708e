import { describe, expect, it } from 'vitest';
import { openData, SYNTHETIC_CLASSES } from '../../src/data/index.js';

describe('synthetic SAR targets', () => {
  it('is balanced, deterministic by seed, and different for another seed', async () => {
    const spec = 'synthetic:size=24,trainPerClass=20,testPerClass=5';
    const a = await openData(spec, { seed: 3 });
    const b = await openData(spec, { seed: 3 });
    const c = await openData(spec, { seed: 4 });
    expect(a.train.classes).toEqual(SYNTHETIC_CLASSES.map((s) => s.name));
    expect([a.train.length, a.test.length, a.train.channels, a.train.height, a.train.width]).toEqual([200, 50, 1, 24, 24]);
    expect(Buffer.compare(Buffer.from(a.train.images), Buffer.from(b.train.images))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.test.images), Buffer.from(b.test.images))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.train.images), Buffer.from(c.train.images))).not.toBe(0);
    expect(Buffer.compare(Buffer.from(a.train.images.subarray(0, 24 * 24 * 50)), Buffer.from(a.test.images))).not.toBe(0);
    const counts = new Array(10).fill(0);
    for (const label of a.train.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(20));
  });

  it('draws bright targets on a dark, speckled background', async () => {
    const { train, info } = await openData('synthetic?trainPerClass=10&testPerClass=1');
    expect(info.layout).toBe('generated');
    for (let i = 0; i < train.length; i++) {
      const image = train.get(i).image;
      expect(Math.max(...image)).toBe(255);
      const sorted = [...image].sort((x, y) => x - y);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(60);
      expect(new Set(image).size).toBeGreaterThan(20);
    }
    expect(info.mean[0]).toBeGreaterThan(0.02);
    expect(info.mean[0]).toBeLessThan(0.3);
  });
});
