/**
 * A residual add right after the conv that makes one of its inputs runs in
 * that conv's stores in the generated C, as in the engine: the plan gives the
 * conv the residual and the add's output and relu, and the add emits nothing.
 * That the scores stay the engine's is host.test.ts's (ResNet-20, and the
 * oddities graph's depthwise and grouped convs with adds).
 */
import { describe, expect, it } from 'vitest';
import { planGraph } from '../../src/export/c/plan.js';
import type { AddNode, Graph } from '../../src/export/ir.js';
import { Builder, oddities, resnet20, rng } from '../engine/graphs.js';

describe('residual adds in the generated C', () => {
  it('ResNet-20: every add runs in the conv before it', () => {
    const plan = planGraph(resnet20(1, 16));
    const adds = plan.nodes.flatMap((np, i) => (np.node.op === 'add' ? [i] : []));
    expect(adds).toHaveLength(9);
    for (const i of adds) {
      const add = plan.nodes[i]!;
      const conv = plan.nodes[i - 1]!;
      const node = add.node as AddNode;
      const residual = node.inputs.find((v) => v !== conv.node.output);
      expect([add.inConv, conv.node.op, conv.out, conv.relu]).toEqual([true, 'conv', add.out, node.relu]);
      expect(conv.res).toEqual(plan.nodes.find((np) => np.node.output === residual)?.out);
      expect(conv.res?.offset).not.toBe(conv.out.offset);
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
    const plan = planGraph(graph);
    expect(plan.nodes.filter((np) => np.res !== null)).toEqual([]);
    expect(plan.nodes.filter((np) => np.inConv)).toEqual([]);
    // The oddities graph's adds after a depthwise, a grouped and a 1x1 conv all fuse.
    expect(planGraph(oddities()).nodes.filter((np) => np.res !== null).map((np) => (np.node.op === 'conv' ? np.node.groups : 0))).toEqual([1, 4, 12]);
  });
});
