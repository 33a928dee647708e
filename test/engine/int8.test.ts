/** The engine's int8 path against the integer reference (src/quant/reference.ts): the same codes, bit for bit, on every kernel set this CPU has. */
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/export/ir.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { runInt8 } from '../../src/quant/reference.js';
import { availableIsas, loadModelBytes, type Isa } from '../../src/runtime/index.js';
import { calibrationSet, logitsOnly, rawImages } from '../quant/graphs.js';
import { aconvnet, oddities, pruned, resnet20 } from './graphs.js';

const quantized = (graph: Graph): Graph => quantizeGraph(graph, calibrationSet(graph, 8, 3), { method: 'minmax' });

const small = resnet20(1, 8, 8);
const cases: [string, Graph][] = [
  ['resnet20 dense', small],
  ['resnet20 uhp 2:4 B16', pruned(small, { kind: 'uhp', n: 2, m: 4, block: 16 })],
  ['resnet20 uhp 2:4 B32', pruned(small, { kind: 'uhp', n: 2, m: 4, block: 32 })],
  ['resnet20 uhp 3:8 B1 (runs dense)', pruned(small, { kind: 'uhp', n: 3, m: 8, block: 1 })],
  ['resnet20 unstructured (runs dense)', pruned(small, { kind: 'unstructured' })],
  ['crop, mean/std, pooling, linear', logitsOnly(oddities(3))],
  ['aconvnet uhp 2:4 B16', pruned(aconvnet(), { kind: 'uhp', n: 2, m: 4, block: 16 })],
];

describe('int8 engine', () => {
  for (const [label, graph] of cases) {
    it(`${label}: every kernel set, 1 and 2 threads, gives the reference's codes`, () => {
      const q = quantized(graph);
      const images = rawImages(q, 3, 11);
      const want = runInt8(q, images, 3).scores;
      for (const isa of availableIsas()) {
        for (const threads of [1, 2]) {
          const model = loadModelBytes(writeUhp(q), label, { isa: isa as Isa, threads });
          try {
            expect(model.int8).toBe(true);
            expect(Array.from(model.run(images, 3)), `${isa}, ${threads} threads`).toEqual(Array.from(want));
          } finally {
            model.dispose();
          }
        }
      }
    });
  }

  it('refuses a non-finite image with one line', () => {
    const q = quantized(small);
    const model = loadModelBytes(writeUhp(q), 'nan.uhp', { isa: 'scalar', threads: 1 });
    try {
      const image = rawImages(q, 1, 2);
      image[5] = Number.NaN;
      expect(() => model.run(image, 1)).toThrow(/nan\.uhp: image 0 of the batch holds a NaN or an infinity/);
    } finally {
      model.dispose();
    }
  });
});
