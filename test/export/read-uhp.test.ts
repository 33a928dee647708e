import { describe, expect, it } from 'vitest';
import { pruneGraph } from '../../src/bench/prune.js';
import { lowerTrace } from '../../src/export/fold.js';
import type { Graph } from '../../src/export/ir.js';
import { readUhp } from '../../src/export/read-uhp.js';
import { traceModel } from '../../src/export/trace.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { loadModelBytes } from '../../src/runtime/index.js';
import { modelWithStats } from './models.js';

describe('reading .uhp back into the IR', () => {
  const model = modelWithStats('wrn16_2');
  const traced: Graph = { ...lowerTrace(traceModel(model, [3, 16, 16])), preprocess: { cropFrom: [20, 20], mean: [0.1, 0.2, 0.3], std: [1, 2, 3] } };
  model.dispose();
  const layers = new Set(traced.nodes.filter((n) => n.op === 'linear' || (n.op === 'conv' && n.groups === 1)).map((n) => n.name));

  const cases: [string, Graph][] = [
    ['dense', traced],
    ['uhp 2:4:16', pruneGraph(traced, layers, { kind: 'uhp', pattern: { kind: 'uhp', n: 2, m: 4, block: 16 } })],
    ['uhp 3:8:1', pruneGraph(traced, layers, { kind: 'uhp', pattern: { kind: 'uhp', n: 3, m: 8, block: 1 } })],
    ['unstructured 50%', pruneGraph(traced, layers, { kind: 'unstructured', sparsity: 0.5 })],
  ];
  for (const [label, graph] of cases) {
    it(`${label}: the same graph, weights and preprocessing come back`, () => {
      const bytes = writeUhp(graph);
      loadModelBytes(bytes, label).dispose();
      const back = readUhp(bytes, label);
      expect(back.preprocess).toEqual(graph.preprocess);
      expect(back.output).toBe(graph.output);
      expect(back.nodes.map((n) => [n.op, n.name])).toEqual(graph.nodes.map((n) => [n.op, n.name]));
      back.nodes.forEach((node, i) => {
        const want = graph.nodes[i]!;
        if ((node.op === 'conv' || node.op === 'linear') && (want.op === 'conv' || want.op === 'linear')) {
          expect(node.pattern).toEqual(want.pattern);
          expect(Array.from(node.weight)).toEqual(Array.from(want.weight));
          expect(node.bias && Array.from(node.bias)).toEqual(want.bias && Array.from(want.bias));
        } else {
          expect(node).toEqual(want);
        }
      });
    });
  }
});
