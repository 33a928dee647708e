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

export interface Graph {
  /** [C, H, W] after preprocessing; the value named 'input'. */
  inputShape: Shape3;
  preprocess: Preprocess;
  /** In topological order: every input is 'input' or an earlier node's output. */
  nodes: GraphNode[];
  /** Name of the value the model returns. */
  output: string;
}

export const GRAPH_INPUT = 'input';

/** Names of the values a node reads. */
export function nodeInputs(node: GraphNode): string[] {
  return node.op === 'add' ? [...node.inputs] : [node.input];
}
