import { describe, expect, it } from 'vitest';
import { channelMask, computeMasks, prunedCount, type LayerWeight } from '../../src/sparsity/index.js';
import { selectKth } from '../../src/sparsity/unstructured.js';
import { layerOf, random } from './reference.js';

const ones = (mask: Uint8Array) => mask.reduce((a, b) => a + b, 0);

/** Reference: order every weight by (|w| desc, layer, index) and keep a prefix. */
function referenceKeep(layers: LayerWeight[], keep: number): Set<string> {
  const all = layers.flatMap((layer, l) => [...layer.data].map((w, i) => ({ magnitude: Math.abs(w), l, i })));
  all.sort((a, b) => b.magnitude - a.magnitude || a.l - b.l || a.i - b.i);
  return new Set(all.slice(0, keep).map(({ l, i }) => `${layers[l]!.name}:${i}`));
}

function keptKeys(layers: LayerWeight[], masks: Map<string, Uint8Array>): Set<string> {
  const keys = new Set<string>();
  for (const layer of layers) masks.get(layer.name)!.forEach((v, i) => v && keys.add(`${layer.name}:${i}`));
  return keys;
}

const model = [
  layerOf('conv1', 'conv', [16, 3, 3, 3], 1),
  layerOf('conv2', 'conv', [32, 16, 3, 3], 2),
  layerOf('fc', 'linear', [10, 33], 3),
];

describe('unstructured magnitude masks', () => {
  for (const sparsity of [0.1, 0.5, 0.9, 0.37]) {
    it(`per layer keeps exactly round-off counts at ${sparsity}, the largest first`, () => {
      const masks = computeMasks(model, { kind: 'unstructured', sparsity, scope: 'layer' });
      for (const layer of model) {
        const total = layer.data.length;
        expect(ones(masks.get(layer.name)!)).toBe(total - Math.round(sparsity * total));
        expect(keptKeys([layer], masks)).toEqual(referenceKeep([layer], ones(masks.get(layer.name)!)));
      }
    });

    it(`global uses one threshold over all layers at ${sparsity}`, () => {
      const masks = computeMasks(model, { kind: 'unstructured', sparsity, scope: 'global' });
      const total = model.reduce((s, l) => s + l.data.length, 0);
      const keep = total - Math.round(sparsity * total);
      expect(model.reduce((s, l) => s + ones(masks.get(l.name)!), 0)).toBe(keep);
      expect(keptKeys(model, masks)).toEqual(referenceKeep(model, keep));
      let smallestKept = Infinity;
      let largestPruned = 0;
      for (const layer of model) {
        masks.get(layer.name)!.forEach((v, i) => {
          const magnitude = Math.abs(layer.data[i]!);
          if (v) smallestKept = Math.min(smallestKept, magnitude);
          else largestPruned = Math.max(largestPruned, magnitude);
        });
      }
      expect(smallestKept).toBeGreaterThanOrEqual(largestPruned);
    });
  }

  it('breaks ties towards the earlier weight', () => {
    const data = Float32Array.from([1, 1, 1, 1, 2, 1]);
    const masks = computeMasks([{ name: 'fc', kind: 'linear', shape: [1, 6], data }], {
      kind: 'unstructured', sparsity: 0.5, scope: 'layer',
    });
    expect([...masks.get('fc')!]).toEqual([1, 1, 0, 0, 1, 0]);
  });

  it('keeps at least one weight', () => {
    expect(prunedCount(1, 0.9)).toBe(0);
    expect(prunedCount(3, 0.9)).toBe(2);
    const masks = computeMasks([{ name: 'w', kind: 'linear', shape: [1, 1], data: Float32Array.of(3) }], {
      kind: 'unstructured', sparsity: 0.9, scope: 'layer',
    });
    expect([...masks.get('w')!]).toEqual([1]);
  });

  it('selectKth agrees with sorting', () => {
    const next = random(5);
    for (const size of [1, 2, 3, 10, 1000]) {
      const values = Float32Array.from({ length: size }, () => Math.floor(next() * 20));
      const sorted = values.slice().sort();
      for (const k of [0, size >> 1, size - 1]) expect(selectKth(values.slice(), k)).toBe(sorted[k]);
    }
  });
});

describe('channel masks', () => {
  it('removes the filters with the smallest L1 norm', () => {
    const data = Float32Array.from([
      1, -1, // L1 2
      3, 0, // 3
      -0.5, 0.5, // 1
      2, 0, // 2, ties with channel 0: channel 0 kept
      0, -4, // 4
    ]);
    const mask = channelMask({ name: 'fc', kind: 'linear', shape: [5, 2], data }, 0.6);
    expect([...mask]).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 1, 1]);
    const kept = channelMask({ name: 'fc', kind: 'linear', shape: [5, 2], data }, 0.4);
    expect([...kept]).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 1]);
  });

  it('masks whole conv filters, round(s·O) of them', () => {
    const layer = layerOf('conv', 'conv', [10, 4, 3, 3], 9);
    const mask = computeMasks([layer], { kind: 'channel', sparsity: 0.25 }).get('conv')!;
    const filters = Array.from({ length: 10 }, (_, o) => ones(mask.subarray(o * 36, o * 36 + 36)));
    expect(filters.every((count) => count === 0 || count === 36)).toBe(true);
    expect(filters.filter((count) => count === 0)).toHaveLength(3);
  });
});
