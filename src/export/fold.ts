/**
 * Passes from a traced graph to the exported IR: BatchNorm folded into the
 * conv that feeds it (or, where none does, turned into a depthwise 1x1 conv),
 * then ReLU fused into the conv, linear or add before it.
 */
import type { ConvNode, Graph, GraphNode, LinearNode, Preprocess } from './ir.js';
import { nodeInputs } from './ir.js';
import type { BatchNormNode, TracedGraph, TracedNode } from './trace.js';

function consumerCounts(nodes: readonly TracedNode[], output: string): Map<string, number> {
  const counts = new Map<string, number>([[output, 1]]);
  for (const node of nodes) {
    for (const v of node.op === 'batchnorm' ? [node.input] : nodeInputs(node)) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

/** W'[o] = W[o]·scale[o], b'[o] = b[o]·scale[o] + shift[o], in float64 before rounding. */
function foldInto(node: ConvNode | LinearNode, bn: BatchNormNode): ConvNode | LinearNode {
  const out = node.weightShape[0];
  const perOut = node.weight.length / out;
  const weight = new Float32Array(node.weight.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const s = bn.scale[o]!;
    for (let k = 0; k < perOut; k++) weight[o * perOut + k] = node.weight[o * perOut + k]! * s;
    bias[o] = (node.bias?.[o] ?? 0) * s + bn.shift[o]!;
  }
  return { ...node, weight, bias, output: bn.output };
}

function depthwise(bn: BatchNormNode): ConvNode {
  const c = bn.scale.length;
  return {
    op: 'conv',
    name: bn.name,
    input: bn.input,
    output: bn.output,
    weight: Float32Array.from(bn.scale),
    weightShape: [c, 1, 1, 1],
    bias: Float32Array.from(bn.shift),
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: c,
    relu: false,
    pattern: { kind: 'dense' },
  };
}

export function foldBatchNorm(graph: TracedGraph): { nodes: GraphNode[]; output: string } {
  const counts = consumerCounts(graph.nodes, graph.output);
  const nodes: GraphNode[] = [];
  const index = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.op === 'batchnorm') {
      const at = index.get(node.input);
      const p = at === undefined ? undefined : nodes[at];
      if (p && (p.op === 'conv' || p.op === 'linear') && counts.get(p.output) === 1 && !p.relu) {
        index.delete(p.output);
        nodes[at!] = foldInto(p, node);
        index.set(node.output, at!);
        continue;
      }
      index.set(node.output, nodes.length);
      nodes.push(depthwise(node));
      continue;
    }
    index.set(node.output, nodes.length);
    nodes.push(node);
  }
  return { nodes, output: graph.output };
}

/** Fuses a ReLU into the conv, linear or add before it when nothing else reads that value. */
export function fuseRelu(graph: { nodes: GraphNode[]; output: string }): { nodes: GraphNode[]; output: string } {
  const counts = new Map<string, number>([[graph.output, 1]]);
  for (const node of graph.nodes) for (const v of nodeInputs(node)) counts.set(v, (counts.get(v) ?? 0) + 1);
  const nodes: GraphNode[] = [];
  const index = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.op === 'relu') {
      const at = index.get(node.input);
      const p = at === undefined ? undefined : nodes[at];
      if (p && (p.op === 'conv' || p.op === 'linear' || p.op === 'add') && !p.relu && counts.get(p.output) === 1) {
        index.delete(p.output);
        nodes[at!] = { ...p, relu: true, output: node.output };
        index.set(node.output, at!);
        continue;
      }
    }
    index.set(node.output, nodes.length);
    nodes.push(node);
  }
  return { nodes, output: graph.output };
}

/** The exported IR of a trace: BatchNorm folded, ReLUs fused. */
export function lowerTrace(graph: TracedGraph, preprocess: Preprocess = { cropFrom: null, mean: null, std: null }): Graph {
  const fused = fuseRelu(foldBatchNorm(graph));
  return { inputShape: graph.inputShape, preprocess, nodes: fused.nodes, output: fused.output };
}
