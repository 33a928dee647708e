/**
 * Executes an IR graph with LibTorch ops: the reference the exporters are
 * checked against, and the LibTorch row of a benchmark when only the graph
 * is at hand. Preprocessing is not applied: the input is the network input.
 */
import * as F from '../nn/functional.js';
import { keep, tidy } from '../torch/scope.js';
import { noGrad, tensor, type Tensor } from '../torch/tensor.js';
import { GRAPH_INPUT, type Graph } from './ir.js';

export interface CompiledGraph {
  /**
   * [batch, ...inputShape] in, [batch, ...output] out. `onValue` sees the
   * input and every node's output (after its fused ReLU), e.g. for calibration.
   */
  forward(x: Tensor, onValue?: (name: string, value: Tensor) => void): Tensor;
  dispose(): void;
}

/** The graph with its weights as LibTorch tensors, made once; the caller disposes it. */
export function compileGraph(graph: Graph): CompiledGraph {
  const weights = new Map<string, { weight: Tensor; bias: Tensor | null }>();
  for (const node of graph.nodes) {
    if (node.op !== 'conv' && node.op !== 'linear') continue;
    weights.set(node.name, { weight: keep(tensor(node.weight, node.weightShape)), bias: node.bias ? keep(tensor(node.bias)) : null });
  }
  return {
    forward(x: Tensor, onValue?: (name: string, value: Tensor) => void): Tensor {
      const values = new Map<string, Tensor>([[GRAPH_INPUT, x]]);
      onValue?.(GRAPH_INPUT, x);
      const get = (name: string): Tensor => values.get(name)!;
      for (const node of graph.nodes) {
        let y: Tensor;
        switch (node.op) {
          case 'conv': {
            const { weight, bias } = weights.get(node.name)!;
            y = F.conv2d(get(node.input), weight, bias, { stride: node.stride, padding: node.padding, dilation: node.dilation, groups: node.groups });
            break;
          }
          case 'linear': {
            const { weight, bias } = weights.get(node.name)!;
            y = F.linear(get(node.input), weight, bias);
            break;
          }
          case 'relu':
            y = get(node.input).relu();
            break;
          case 'add':
            y = get(node.inputs[0]).add(get(node.inputs[1]));
            break;
          case 'maxpool':
            y = F.maxPool2d(get(node.input), node.kernel, { stride: node.stride, padding: node.padding });
            break;
          case 'avgpool':
            y = F.avgPool2d(get(node.input), node.kernel, { stride: node.stride, padding: node.padding });
            break;
          case 'globalavgpool':
            y = F.adaptiveAvgPool2d(get(node.input), 1);
            break;
          case 'flatten':
            y = get(node.input).flatten(1);
            break;
          case 'softmax':
            y = get(node.input).softmax(1);
            break;
        }
        if ((node.op === 'conv' || node.op === 'linear' || node.op === 'add') && node.relu) y = y.relu_();
        values.set(node.output, y);
        onValue?.(node.output, y);
      }
      return get(graph.output);
    },
    dispose() {
      for (const { weight, bias } of weights.values()) {
        weight.dispose();
        bias?.dispose();
      }
    },
  };
}

/** Runs `batch` images of graph.inputShape (NCHW, float32); returns [batch, ...output] flattened. */
export function runGraph(graph: Graph, input: Float32Array, batch = 1): Float32Array {
  const compiled = compileGraph(graph);
  try {
    return noGrad(() => tidy(() => compiled.forward(tensor(input, [batch, ...graph.inputShape])).data() as Float32Array));
  } finally {
    compiled.dispose();
  }
}
