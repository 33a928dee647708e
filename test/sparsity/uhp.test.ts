import { describe, expect, it } from 'vitest';
import {
  applyMask,
  checkUniformity,
  computeMasks,
  uhpGeometry,
  uhpGroupSize,
  uhpMask,
  type LayerWeight,
  type UhpPattern,
} from '../../src/sparsity/index.js';
import { layerOf, referenceGroups, referenceUhpMask } from './reference.js';

const BLOCKS = [1, 2, 4, 8, 16];

function shapesFor(m: number): Array<{ label: string; kind: 'conv' | 'linear'; shape: number[] }> {
  return [
    { label: 'first conv Cin=3 3x3', kind: 'conv', shape: [7, 3, 3, 3] },
    { label: '1x1 conv', kind: 'conv', shape: [17, 2 * m, 1, 1] },
    { label: '3x3 conv', kind: 'conv', shape: [5, m, 3, 3] },
    { label: 'depthwise 3x3', kind: 'conv', shape: [6, 1, 3, 3] },
    { label: 'Cin not a multiple of M', kind: 'conv', shape: [5, m + 1, 3, 3] },
    { label: 'linear with odd features', kind: 'linear', shape: [9, 2 * m + 3] },
  ];
}

function keepCounts(m: number): number[] {
  return [...new Set([1, m / 2, m - 1])];
}

/** Kept positions per group of one block, through the reference's own group list. */
function keptPerGroup(layer: LayerWeight, mask: Uint8Array, m: number, block: number): Array<{ counts: number[]; size: number }> {
  const rows = layer.shape[0]!;
  const rowLength = layer.data.length / rows;
  const result: Array<{ counts: number[]; size: number }> = [];
  for (let o0 = 0; o0 < rows; o0 += block) {
    for (const group of referenceGroups(layer.shape, layer.kind, m)) {
      const counts: number[] = [];
      for (let o = o0; o < Math.min(rows, o0 + block); o++) {
        counts.push(group.reduce((s, p) => s + mask[o * rowLength + p]!, 0));
      }
      result.push({ counts, size: group.length });
    }
  }
  return result;
}

describe('UHP masks against the brute-force reference', () => {
  for (const m of [2, 4, 8, 16]) {
    for (const n of keepCounts(m)) {
      for (const block of BLOCKS) {
        it(`${n}:${m} block ${block}`, () => {
          const pattern: UhpPattern = { kind: 'uhp', n, m, block };
          shapesFor(m).forEach(({ label, kind, shape }, i) => {
            const layer = layerOf(label, kind, shape, 1000 * m + 100 * n + 10 * block + i);
            const mask = uhpMask(layer, pattern);
            expect(mask, label).toEqual(referenceUhpMask(layer, n, m, block));
            for (const { counts, size } of keptPerGroup(layer, mask, m, block)) {
              for (const count of counts) expect(count, label).toBe(Math.min(n, size));
            }
            expect(checkUniformity(label, shape, kind, mask, pattern).ok, label).toBe(true);
            expect(checkUniformity(label, shape, kind, applyMask(layer.data, mask), pattern).badGroups, label).toBe(0);
          });
        });
      }
    }
  }
});

describe('UHP rules on hand-made layers', () => {
  it('groups input channels per tap in a conv whose channels divide by M', () => {
    // [O=1, C=4, 1, 2]: position c*2 + t; tap 0 holds c0..c3 at 0,2,4,6.
    const data = Float32Array.from([1, -8, 5, 7, -3, 6, 2, 0.5]);
    const mask = uhpMask({ name: 'w', kind: 'conv', shape: [1, 4, 1, 2], data }, { kind: 'uhp', n: 2, m: 4, block: 1 });
    // tap 0: |1|,|5|,|-3|,|2| -> keep c1, c2 (positions 2, 4); tap 1: |-8|,|7|,|6|,|0.5| -> c0, c1 (1, 3).
    expect([...mask]).toEqual([0, 1, 1, 1, 1, 0, 0, 0]);
  });

  it('keeps 14 of 27 weights per filter of a Cin=3 3x3 conv at 2:4', () => {
    const layer = layerOf('conv1', 'conv', [16, 3, 3, 3], 7);
    const mask = uhpMask(layer, { kind: 'uhp', n: 2, m: 4, block: 1 });
    for (let o = 0; o < 16; o++) expect(mask.subarray(o * 27, o * 27 + 27).reduce((a, b) => a + b, 0)).toBe(14);
    const geo = uhpGeometry([16, 3, 3, 3], 4);
    expect(geo).toMatchObject({ grouping: 'flat', groups: 7, stride: 1 });
    expect(uhpGroupSize(geo, 6)).toBe(3);
  });

  it('keeps the whole tail when it is not longer than N', () => {
    // Linear with 5 features at 2:4: group [0..3] keeps 2, tail [4] keeps its single weight.
    const data = Float32Array.from([4, 3, 2, 1, 0.25]);
    const mask = uhpMask({ name: 'fc', kind: 'linear', shape: [1, 5], data }, { kind: 'uhp', n: 2, m: 4, block: 1 });
    expect([...mask]).toEqual([1, 1, 0, 0, 1]);
  });

  it('breaks ties towards the lower position', () => {
    const data = new Float32Array(16).fill(-1);
    const mask = uhpMask({ name: 'fc', kind: 'linear', shape: [2, 8], data }, { kind: 'uhp', n: 2, m: 4, block: 1 });
    expect([...mask]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
  });

  it('chooses a block mask from the summed magnitude and gives it to the smaller last block too', () => {
    // O=3, block 2: channels 0,1 share; channel 2 is a block of one.
    const data = Float32Array.from([
      9, 0, 0, 1,
      0, 5, 5, 1,
      0, 1, 2, 3,
    ]);
    const mask = uhpMask({ name: 'fc', kind: 'linear', shape: [3, 4], data }, { kind: 'uhp', n: 2, m: 4, block: 2 });
    // Block sums 9,5,5,2: keep 0 and 1 (ties 5/5 -> lower position).
    expect([...mask]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]);
  });

  it('keepOverride steps the keep count of a gradual schedule', () => {
    const layer = layerOf('conv', 'conv', [8, 16, 3, 3], 3);
    const pattern: UhpPattern = { kind: 'uhp', n: 2, m: 4, block: 1 };
    const full = computeMasks([layer], pattern, { keepOverride: 4 }).get('conv')!;
    expect(full.every((v) => v === 1)).toBe(true);
    const three = computeMasks([layer], pattern, { keepOverride: 3 }).get('conv')!;
    expect(three.reduce((a, b) => a + b, 0)).toBe(8 * 9 * 4 * 3);
    expect(checkUniformity('conv', layer.shape, 'conv', three, { ...pattern, n: 3 }).ok).toBe(true);
    expect(() => computeMasks([layer], pattern, { keepOverride: 5 })).toThrow(/keepOverride: must be an integer in 1\.\.4/);
  });
});

describe('checkUniformity', () => {
  const pattern: UhpPattern = { kind: 'uhp', n: 2, m: 4, block: 2 };
  const layer = layerOf('conv', 'conv', [4, 8, 3, 3], 11);
  const mask = uhpMask(layer, pattern);

  it('reports a group with one weight too many', () => {
    const bad = mask.slice();
    const off = bad.indexOf(0);
    bad[off] = 1;
    bad[off + 72] = 1;
    const report = checkUniformity('conv', layer.shape, 'conv', bad, pattern);
    expect(report).toMatchObject({ ok: false, badGroups: 1, groups: 2 * 18 });
    expect(report.firstBad).toMatchObject({ outChannel: 0, count: 3, expected: 2 });
    expect(report.firstBad!.message).toMatch(/^conv: output channels 0\.\.1, group \d+ holds 3 kept positions, expected 2$/);
  });

  it('reports a mask that differs inside a block', () => {
    const bad = mask.slice();
    bad[bad.indexOf(0) + 72] = 1;
    expect(checkUniformity('conv', layer.shape, 'conv', bad, pattern).firstBad!.message).toMatch(/differs across the block/);
  });

  it('accepts masked weights with a zero kept weight as short, not bad', () => {
    const weights = applyMask(layer.data, mask);
    weights[mask.indexOf(1)] = 0;
    weights[mask.indexOf(1) + 72] = 0;
    expect(checkUniformity('conv', layer.shape, 'conv', weights, pattern)).toMatchObject({ ok: true, shortGroups: 1 });
    expect(checkUniformity('conv', layer.shape, 'conv', layer.data, pattern).ok).toBe(false);
  });
});
