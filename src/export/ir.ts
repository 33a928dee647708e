/**
 * Graph IR: the single hand-over between the tracer and every exporter.
 * Plain data only, so it can be built by hand in tests and serialised as is.
 *
 * Semantics are PyTorch's: activations are [C, H, W] (batch dimension
 * implicit) or [F] after a flatten, which flattens in C, H, W order.
 * BatchNorm is folded into the preceding conv before a graph is built.
 */

/** Which weights of a conv/linear layer are kept. */
export type SparsityPattern =
  | { kind: 'dense' }
  /**
   * Uniformity half-pruning (DESIGN §4): every group of `m` consecutive
   * input channels at one tap keeps exactly `n` weights (at most `n`
   * non-zeros), the same positions for `block` consecutive output channels.
   */
  | { kind: 'uhp'; n: number; m: number; block: number }
  | { kind: 'unstructured' };

export type Shape3 = [number, number, number];
export type Shape = Shape3 | [number];

export interface ConvNode {
  op: 'conv';
  name: string;
  input: string;
  output: string;
  /** [O, C/groups, kh, kw], dense, zeros where pruned. */
  weight: Float32Array;
  weightShape: [number, number, number, number];
  bias: Float32Array | null;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  relu: boolean;
  pattern: SparsityPattern;
}

export interface LinearNode {
  op: 'linear';
  name: string;
  input: string;
  output: string;
  /** [O, I], dense, zeros where pruned. */
  weight: Float32Array;
  weightShape: [number, number];
  bias: Float32Array | null;
  relu: boolean;
  pattern: SparsityPattern;
}

export interface ReluNode {
  op: 'relu';
  name: string;
  input: string;
  output: string;
}

export interface AddNode {
  op: 'add';
  name: string;
  inputs: [string, string];
  output: string;
  relu: boolean;
}

export interface PoolNode {
  op: 'maxpool' | 'avgpool';
  name: string;
  input: string;
  output: string;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/** Average over H and W; output [C, 1, 1] like AdaptiveAvgPool2d(1). */
export interface GlobalAvgPoolNode {
  op: 'globalavgpool';
  name: string;
  input: string;
  output: string;
}

export interface FlattenNode {
  op: 'flatten';
  name: string;
  input: string;
  output: string;
}

/** Softmax over the flattened values of one sample. */
export interface SoftmaxNode {
  op: 'softmax';
  name: string;
  input: string;
  output: string;
}

export type GraphNode =
  | ConvNode
  | LinearNode
  | ReluNode
  | AddNode
  | PoolNode
  | GlobalAvgPoolNode
  | FlattenNode
  | SoftmaxNode;

/**
 * What a caller feeds before the first node: a [C, H0, W0] image is centre
 * cropped to `inputShape` and normalised per channel as (x - mean) / std.
 */
export interface Preprocess {
  /** [H0, W0] of the uncropped image; null when images arrive at the input size. */
  cropFrom: [number, number] | null;
  mean: number[] | null;
  std: number[] | null;
}

/** An int8 activation: real = (q - zeroPoint) * scale; scale is float32-representable. */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** The integers a conv/linear layer runs with (docs/uhp-format.md, version 2). */
export interface QuantLayer {
  /** Symmetric int8 weights in the float layout ([O, C/groups, kh, kw] or [O, I]); zero wherever the float weight is. */
  weight: Int8Array;
  /** Per output channel: real weight = weight * scales[o] (float32-representable). */
  scales: Float32Array;
  /** Per output channel, in units of s_in * scales[o]. */
  bias: Int32Array;
  /** Per output channel: acc -> R(acc, mult, shift) rescales to the output's scale. */
  mult: Int32Array;
  shift: Int32Array;
}

/** [[multA, shiftA], [multB, shiftB], [multOut, shiftOut]] of an int8 add. */
export type AddRequant = [[number, number], [number, number], [number, number]];

/**
 * What an int8 engine needs beyond the float graph (src/quant). The float
 * weights stay in the nodes, so float consumers still run the graph.
 */
export interface GraphQuant {
  kind: 'int8';
  /** Every value: 'input' and each node's output. */
  values: Record<string, QuantParams>;
  /** Conv and linear nodes by name. */
  layers: Record<string, QuantLayer>;
  /** Add nodes by name. */
  adds: Record<string, AddRequant>;
}

export interface Graph {
  /** [C, H, W] after preprocessing; the value named 'input'. */
  inputShape: Shape3;
  preprocess: Preprocess;
  /** In topological order: every input is 'input' or an earlier node's output. */
  nodes: GraphNode[];
  /** Name of the value the model returns. */
  output: string;
  /** Present on an int8 model. */
  quant?: GraphQuant;
}

export const GRAPH_INPUT = 'input';

/** Names of the values a node reads. */
export function nodeInputs(node: GraphNode): string[] {
  return node.op === 'add' ? [...node.inputs] : [node.input];
}
