/** Shape inference over the graph IR; every exporter checks a graph with it first. */
import { ShapeError } from '../errors.js';
import { GRAPH_INPUT, nodeInputs, type Graph, type GraphNode, type Shape } from './ir.js';

const fmt = (s: Shape): string => `[${s.join(', ')}]`;

function need3(node: GraphNode, s: Shape): [number, number, number] {
  if (s.length !== 3) throw new ShapeError(`${node.name}: ${node.op} needs a [C, H, W] input, got ${fmt(s)}`);
  return s;
}

function windowOut(node: GraphNode, size: number, k: number, s: number, p: number, d: number): number {
  const out = Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (!(out >= 1)) throw new ShapeError(`${node.name}: window ${k} (stride ${s}, padding ${p}) does not fit input size ${size}`);
  return out;
}

function positiveInts(node: GraphNode, what: string, v: number[], min: number): void {
  if (!v.every((x) => Number.isInteger(x) && x >= min)) {
    throw new ShapeError(`${node.name}: ${what} must be integers >= ${min}, got [${v.join(', ')}]`);
  }
}

function outputShape(node: GraphNode, ins: Shape[]): Shape {
  switch (node.op) {
    case 'conv': {
      const [c, h, w] = need3(node, ins[0]);
      const [o, cg, kh, kw] = node.weightShape;
      positiveInts(node, 'weight shape', node.weightShape, 1);
      positiveInts(node, 'stride', node.stride, 1);
      positiveInts(node, 'dilation', node.dilation, 1);
      positiveInts(node, 'padding', node.padding, 0);
      positiveInts(node, 'groups', [node.groups], 1);
      if (cg * node.groups !== c || o % node.groups !== 0) {
        throw new ShapeError(`${node.name}: weight ${fmt([o, cg, kh, kw] as unknown as Shape)} with groups ${node.groups} does not fit input ${fmt(ins[0])}`);
      }
      if (node.weight.length !== o * cg * kh * kw) throw new ShapeError(`${node.name}: weight has ${node.weight.length} values, shape needs ${o * cg * kh * kw}`);
      if (node.bias && node.bias.length !== o) throw new ShapeError(`${node.name}: bias has ${node.bias.length} values, expected ${o}`);
      return [
        o,
        windowOut(node, h, kh, node.stride[0], node.padding[0], node.dilation[0]),
        windowOut(node, w, kw, node.stride[1], node.padding[1], node.dilation[1]),
      ];
    }
    case 'linear': {
      const [o, i] = node.weightShape;
      positiveInts(node, 'weight shape', node.weightShape, 1);
      if (ins[0].length !== 1 || ins[0][0] !== i) throw new ShapeError(`${node.name}: linear [${o}, ${i}] needs a [${i}] input, got ${fmt(ins[0])}`);
      if (node.weight.length !== o * i) throw new ShapeError(`${node.name}: weight has ${node.weight.length} values, shape needs ${o * i}`);
      if (node.bias && node.bias.length !== o) throw new ShapeError(`${node.name}: bias has ${node.bias.length} values, expected ${o}`);
      return [o];
    }
    case 'relu':
    case 'softmax':
      return ins[0];
    case 'add':
      if (fmt(ins[0]) !== fmt(ins[1])) throw new ShapeError(`${node.name}: add of ${fmt(ins[0])} and ${fmt(ins[1])}`);
      return ins[0];
    case 'maxpool':
    case 'avgpool': {
      const [c, h, w] = need3(node, ins[0]);
      positiveInts(node, 'kernel', node.kernel, 1);
      positiveInts(node, 'stride', node.stride, 1);
      positiveInts(node, 'padding', node.padding, 0);
      if (node.padding[0] * 2 > node.kernel[0] || node.padding[1] * 2 > node.kernel[1]) {
        throw new ShapeError(`${node.name}: padding must be at most half the kernel`);
      }
      return [
        c,
        windowOut(node, h, node.kernel[0], node.stride[0], node.padding[0], 1),
        windowOut(node, w, node.kernel[1], node.stride[1], node.padding[1], 1),
      ];
    }
    case 'globalavgpool':
      return [need3(node, ins[0])[0], 1, 1];
    case 'flatten':
      return [ins[0].reduce((a, b) => a * b, 1)];
  }
}

/** Shape of every value; throws ShapeError on an undefined input, a reused name or a misfit. */
export function inferShapes(graph: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  positiveInts({ name: 'input', op: 'relu' } as GraphNode, 'input shape', graph.inputShape, 1);
  shapes.set(GRAPH_INPUT, graph.inputShape);
  for (const node of graph.nodes) {
    const ins = nodeInputs(node).map((name) => {
      const s = shapes.get(name);
      if (!s) throw new ShapeError(`${node.name}: input '${name}' is not defined before it`);
      return s;
    });
    if (shapes.has(node.output)) throw new ShapeError(`${node.name}: value '${node.output}' is defined twice`);
    shapes.set(node.output, outputShape(node, ins));
  }
  if (!shapes.has(graph.output)) throw new ShapeError(`graph output '${graph.output}' is not defined`);
  return shapes;
}
