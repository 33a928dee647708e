/** Per-layer timing: node order, kernels, multiply-adds and times as the engine planned and ran them. */
import { describe, expect, it } from 'vitest';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { loadModelBytes } from '../../src/runtime/index.js';
import { aconvnet, pruned, randomInput, resnet20 } from './graphs.js';

describe('engine per-layer profile', () => {
  const graph = aconvnet();
  // A-ConvNets at 88x88: its five convs output 84, 38, 14, 3 and 1 pixels a side.
  const sides = [84, 38, 14, 3, 1];

  it('reports every graph node in order with its kernel, its multiply-adds and its time', () => {
    // 2:4 keeps 2 of every group of 4 along a conv's (channel, tap) inputs, the last group padded.
    const kept = { dense: (k: number) => k, uhp: (k: number) => Math.ceil(k / 4) * 2 };
    for (const [spec, kernel] of [[{ kind: 'dense' }, 'dense16'], [{ kind: 'uhp', n: 2, m: 4, block: 16 }, 'sparse16']] as const) {
      const g = pruned(graph, spec);
      const m = loadModelBytes(writeUhp(g), 'a.uhp');
      const x = randomInput(m.inputShape.reduce((a, b) => a * b, 1), 1);
      m.profile(true);
      for (let i = 0; i < 3; i++) m.run(x);
      m.profile(false);
      const layers = m.layerTimes();
      expect(layers).toHaveLength(g.nodes.length);
      let conv = 0;
      g.nodes.forEach((node, i) => {
        const l = layers[i]!;
        if (node.op === 'conv') {
          const [o, c, kh, kw] = node.weightShape;
          const side = sides[conv++]!;
          expect(l.kernel, node.name).toBe(kernel);
          expect(l.macs, node.name).toBe(o * kept[spec.kind](c * kh * kw) * side * side);
          expect(l.ms, node.name).toBeGreaterThan(0);
        } else {
          expect(l.kernel).toBe(node.op);
          expect(l.macs).toBe(0);
        }
        // Unpadded poolings right after a conv run in its bands; their time is the conv's.
        if (l.fused) expect([node.op, l.ms, g.nodes[i - 1]!.op]).toEqual(['maxpool', 0, 'conv']);
      });
      expect(layers.filter((l) => l.fused)).toHaveLength(3);
      // Off: runs no longer count; on again: totals restart at zero.
      const frozen = m.layerTimes().map((l) => l.ms);
      m.run(x);
      expect(m.layerTimes().map((l) => l.ms)).toEqual(frozen);
      m.profile(true);
      expect(m.layerTimes().every((l) => l.ms === 0)).toBe(true);
      m.dispose();
    }
  });

  it('runs each residual add in the stores of the conv before it, on one thread and on two', () => {
    const g = pruned(resnet20(1, 16), { kind: 'uhp', n: 2, m: 4, block: 1 });
    const adds = g.nodes.flatMap((node, i) => (node.op === 'add' ? [i] : []));
    expect(adds).toHaveLength(9);
    for (const threads of [1, 2]) {
      const m = loadModelBytes(writeUhp(g), 'r20.uhp', { threads });
      m.profile(true);
      m.run(randomInput(m.inputShape.reduce((a, b) => a * b, 1), 1));
      const layers = m.layerTimes();
      expect(layers.flatMap((l, i) => (l.fused ? [i] : []))).toEqual(adds);
      for (const i of adds) expect([layers[i]!.ms, g.nodes[i - 1]!.op, layers[i - 1]!.ms > 0]).toEqual([0, 'conv', true]);
      m.dispose();
    }
  });
});
