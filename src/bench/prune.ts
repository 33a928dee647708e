/**
 * Magnitude pruning of an exported graph's weights, for benchmark rows of a
 * model that was not trained sparse: the speed of a pattern does not depend on
 * which weights survive, only the accuracy does, and a benchmark ignores that.
 */
import type { Graph, SparsityPattern } from '../export/ir.js';
import type { UhpPattern } from '../sparsity/pattern.js';
import { uhpMask } from '../sparsity/uhp.js';
import { unstructuredMasks } from '../sparsity/unstructured.js';
import type { LayerWeight } from '../sparsity/layer.js';

export type PruneSpec = { kind: 'uhp'; pattern: UhpPattern } | { kind: 'unstructured'; sparsity: number };

/** A copy of `graph` whose `layers` (node names) are pruned to `spec`, with the matching pattern. */
export function pruneGraph(graph: Graph, layers: ReadonlySet<string>, spec: PruneSpec): Graph {
  const nodes = graph.nodes.map((node) => {
    if ((node.op !== 'conv' && node.op !== 'linear') || !layers.has(node.name)) return node;
    const layer: LayerWeight = { name: node.name, kind: node.op, shape: [...node.weightShape], data: node.weight };
    const mask = spec.kind === 'uhp' ? uhpMask(layer, spec.pattern) : unstructuredMasks([layer], spec.sparsity, 'layer').get(node.name)!;
    const weight = node.weight.map((w, i) => (mask[i] ? w : 0));
    const pattern: SparsityPattern = spec.kind === 'uhp' ? { kind: 'uhp', n: spec.pattern.n, m: spec.pattern.m, block: spec.pattern.block } : { kind: 'unstructured' };
    return { ...node, weight, pattern };
  });
  return { ...graph, nodes };
}
