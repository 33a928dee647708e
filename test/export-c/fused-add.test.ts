/**
 * A residual add right after the conv that makes one of its inputs runs in
 * that conv's stores in the generated C, as in the engine: the plan gives the
 * conv the residual and the add's output and relu, and the add emits nothing.
 * That the scores stay the engine's is host.test.ts's (ResNet-20, and the
 * oddities graph's depthwise and grouped convs with adds).
 */
import { describe, expect, it } from 'vitest';
import type { AddNode, Graph } from '../../src/export/ir.js';
import { Builder, oddities, resnet20, rng } from '../engine/graphs.js';
import { planView } from './plan-view.js';

describe('residual adds in the generated C', () => {
  it('ResNet-20: every add runs in the conv before it', () => {
    const graph = resnet20(1, 16);
    const v = planView(graph);
    const adds = graph.nodes.flatMap((n, i) => (n.op === 'add' ? [i] : []));
    expect(adds).toHaveLength(9);
    for (const i of adds) {
      const node = graph.nodes[i] as AddNode;
      const conv = graph.nodes[i - 1]!;
      const residual = node.inputs.find((x) => x !== conv.output)!;
      expect([conv.op, v.step(i - 1, 'add_next'), v.step(i - 1, 'out_value'), v.step(i - 1, 'relu')]).toEqual(['conv', 1, i + 1, node.relu ? 1 : 0]);
      expect(v.step(i - 1, 'res_value')).toBe(v.value(residual));
      expect(v.plan.valAt[v.value(residual)]).not.toBe(v.plan.valAt[i + 1]);
    }
  });

  it('keeps an add after a conv with a relu of its own, or whose conv output another node reads', () => {
    const b = new Builder(rng(9));
    const x = b.conv('input', 4, 8, 3, { padding: [1, 1] });
    const own = b.add(b.conv(x, 8, 8, 3, { padding: [1, 1], relu: true }), x, false);
    const twice = b.conv(own, 8, 8, 1);
    const first = b.add(twice, own, false);
    const out = b.add(first, twice, true);
    const graph: Graph = { inputShape: [4, 6, 6], preprocess: { cropFrom: null, mean: null, std: null }, nodes: b.nodes, output: out };
    const v = planView(graph);
    expect(graph.nodes.filter((_, i) => v.step(i, 'add_next'))).toEqual([]);
    // The oddities graph's adds after a depthwise, a grouped and a 1x1 conv all fuse.
    const odd = oddities();
    const w = planView(odd);
    expect(odd.nodes.flatMap((n, i) => (w.step(i, 'add_next') ? [n.op === 'conv' ? n.groups : 0] : []))).toEqual([1, 4, 12]);
  });
});
