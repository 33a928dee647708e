import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/export/ir.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { pixelTable, quantizeInput, runInt8, runInt8Values } from '../../src/quant/reference.js';
import { aconvnet, oddities, pruned, reference, resnet20, rowsCases } from '../engine/graphs.js';
import { argmax, calibrationSet, logitsOnly, rawImages } from './graphs.js';

/** Int8 scores against the float64 reference on `count` images: relative max error per image, and top-1 agreement. */
function compare(graph: Graph, q: Graph, count: number) {
  const raw = rawImages(graph, count, 99);
  const per = raw.length / count;
  const { scores } = runInt8(q, raw, count);
  const outputs = scores.length / count;
  let worst = 0;
  let same = 0;
  for (let n = 0; n < count; n++) {
    const want = reference(graph, raw.subarray(n * per, (n + 1) * per));
    const got = scores.subarray(n * outputs, (n + 1) * outputs);
    const scale = Math.max(...want.map(Math.abs));
    worst = Math.max(worst, Math.max(...got.map((v, i) => Math.abs(v - want[i]!))) / scale);
    if (argmax(got) === argmax(want)) same++;
  }
  return { worst, same };
}

describe('int8 reference runner', () => {
  const cases: [string, Graph, number][] = [
    ['resnet20 (narrow, uhp 2:4:4)', pruned(resnet20(1, 16, 8), { kind: 'uhp', n: 2, m: 4, block: 4 }), 8],
    ['oddities (crop, normalise, groups, dilation, pools)', logitsOnly(oddities(3)), 8],
    ['aconvnet', aconvnet(2), 2],
    ['strides, dilation, 5x5, uneven padding, groups', rowsCases(4), 4],
  ];
  for (const [name, graph, count] of cases) {
    it(`${name}: dequantized scores stay close to float`, () => {
      const q = quantizeGraph(graph, calibrationSet(graph, 16, 7), { method: 'minmax' });
      const { worst, same } = compare(graph, q, count);
      // Measured: 1.0% (resnet20), 2.1% (oddities), 1.0% (aconvnet), 1.5% (rowsCases) of the largest score.
      expect(worst).toBeLessThan(0.05);
      expect(same).toBeGreaterThanOrEqual(count - 1);
    });
  }

  it('follows the spec literally on a hand-computed graph', () => {
    const graph: Graph = {
      inputShape: [1, 1, 2],
      preprocess: { cropFrom: null, mean: [0.5], std: [0.25] },
      nodes: [
        { op: 'conv', name: 'c', input: 'input', output: 'c', weight: Float32Array.of(2), weightShape: [1, 1, 1, 1], bias: Float32Array.of(0.1), stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, relu: false, pattern: { kind: 'dense' } },
        { op: 'add', name: 'a', inputs: ['c', 'input'], output: 'a', relu: true },
        { op: 'avgpool', name: 'p', input: 'a', output: 'p', kernel: [1, 2], stride: [1, 2], padding: [0, 0] },
      ],
      output: 'p',
    };
    const q: Graph = {
      ...graph,
      quant: {
        kind: 'int8',
        values: { input: { scale: 0.5, zeroPoint: 3 }, c: { scale: 0.25, zeroPoint: -10 }, a: { scale: 1, zeroPoint: -128 }, p: { scale: 1, zeroPoint: -128 } },
        layers: { c: { weight: Int8Array.of(100), scales: Float32Array.of(0.02), bias: Int32Array.of(-7), mult: Int32Array.of(2 ** 30), shift: Int32Array.of(31) } },
        adds: { a: [[2 ** 30, 31], [2 ** 30, 30], [2 ** 30, 50]] },
      },
    };
    // v = 1.0: t = (1 - 0.5) * 4 = 2, q = round(2 / 0.5) + 3 = 7. v = 0.1875: t = -1.25, q = round(-2.5) + 3 = 0 (half away from zero).
    const input = quantizeInput(q, Float32Array.of(1, 0.1875));
    expect([...input]).toEqual([7, 0]);
    const v = runInt8Values(q, input);
    // conv: acc = -7 + (7 - 3) * 100 = 393, R(393, 2^30, 31) = 197 (196.5 up), -10 + 197 -> 127; acc = -7 - 300 = -307 -> -153 (-153.5 up) -> -128.
    expect([...v.get('c')!]).toEqual([127, -128]);
    // add: R(137 * 2^20, 2^30, 31) + R(4 * 2^20, 2^30, 30) = 71827456 + 4194304, R(76021760, 2^30, 50) = 73 (72.5 up), -128 + 73 = -55;
    // R(-118 * 2^20, .., 31) + R(-3 * 2^20, .., 30) = -65011712, / 2^20 = -62 -> -190 -> the ReLU floor -128.
    expect([...v.get('a')!]).toEqual([-55, -128]);
    // avgpool: S = 73 + 0, D(73, 2) = 37 (36.5 away from zero).
    expect([...v.get('p')!]).toEqual([-91]);
    expect(runInt8(q, Float32Array.of(1, 0.1875)).scores[0]).toBe(37);
  });

  it('the pixel table holds what quantizeInput makes of p / 255', () => {
    const graph = logitsOnly(oddities(3));
    const q = quantizeGraph(graph, calibrationSet(graph, 8, 1), { method: 'minmax' });
    const table = pixelTable(q);
    expect(table.length).toBe(3 * 256);
    const [C, H, W] = q.inputShape;
    const [H0, W0] = q.preprocess.cropFrom!;
    const image = new Float32Array(C * H0 * W0);
    for (let i = 0; i < image.length; i++) image[i] = Math.fround((i * 37 % 256) / 255);
    const got = quantizeInput(q, image);
    const top = Math.floor((H0 - H) / 2), left = Math.floor((W0 - W) / 2);
    for (let c = 0; c < C; c++)
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const p = ((c * H0 + top + i) * W0 + left + j) * 37 % 256;
          expect(got[(c * H + i) * W + j]).toBe(table[c * 256 + p]);
        }
  });
});
