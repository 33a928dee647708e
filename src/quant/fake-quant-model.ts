/**
 * A model as its int8 export runs it, for quantization-aware training: the
 * exported graph (BatchNorm folded, ReLU fused) computed from the model's
 * live parameters, the folded weights fake-quantized per output channel,
 * biases rounded to their int32 units, and every value the int8 engine
 * rounds put on its fixed grid. Gradients reach the model's own parameters
 * straight through the rounding. BatchNorm statistics are read, never
 * updated: they stay frozen while it trains.
 */
import { DstError, FormatError } from '../errors.js';
import { lowerTrace } from '../export/fold.js';
import { GRAPH_INPUT, type ConvNode, type Graph, type LinearNode, type QuantParams, type Shape3 } from '../export/ir.js';
import { traceModel, type TracedGraph } from '../export/trace.js';
import * as F from '../nn/functional.js';
import { BatchNorm2d, Conv2d, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Parameter } from '../nn/parameter.js';
import { noGrad, type Tensor } from '../torch/tensor.js';
import { fakeQuantActivation, fakeQuantBias, fakeQuantWeights, weightScales } from './fake-quant.js';
import { checkQuantizable } from './quantize.js';

/** Ops whose output holds only values of their input, so it is on the input's grid already. */
const ON_GRID = new Set(['relu', 'maxpool', 'flatten']);

/**
 * An average of `n` values on the grid of `q` lies on multiples of 1/n of a
 * step, so it often falls exactly half-way: the int8 engine then rounds away
 * from zero, LibTorch's rounding to even. A nudge of a quarter of 1/n step
 * away from zero makes the halves round as the engine does and moves no
 * other value across a rounding boundary.
 */
function awayFromZero(y: Tensor, q: QuantParams, n: number): Tensor {
  return y.add(noGrad(() => y.sign().mul(q.scale / (4 * n))));
}

interface LayerSource {
  /** The folded float weight and bias, as the exporter computes them, from the live parameters. */
  folded(): { weight: Tensor; bias: Tensor | null };
  /** The model's own weight, so MAC counting finds the layer. */
  layerWeight?: Parameter;
}

function maskedWeight(layer: Conv2d | Linear): Tensor {
  const mask = layer.weightMask;
  return mask === null ? layer.weight : layer.weight.mul(mask);
}

/** Eval-mode BatchNorm as y = x·scale + shift, per channel. */
function bnAffine(bn: BatchNorm2d): { scale: Tensor; shift: Tensor } {
  const scale = bn.weight.div(bn.runningVar.add(bn.eps).sqrt());
  return { scale, shift: bn.bias.sub(bn.runningMean.mul(scale)) };
}

function perOutput(t: Tensor, rank: number): Tensor {
  return t.reshape([t.shape[0]!, ...Array<number>(rank - 1).fill(1)]);
}

/** The BatchNorm the exporter folded into `node`: the traced one reading the layer's output that is no node of its own. */
function foldedNorm(traced: TracedGraph, names: ReadonlySet<string>, node: ConvNode | LinearNode): string | undefined {
  return traced.nodes.find((n) => n.op === 'batchnorm' && n.input === node.name && !names.has(n.name))?.name;
}

function layerSource(modules: ReadonlyMap<string, Module>, traced: TracedGraph, names: ReadonlySet<string>, node: ConvNode | LinearNode): LayerSource {
  const own = modules.get(node.name);
  if (own instanceof BatchNorm2d) {
    // A BatchNorm with no layer before it to fold into is exported as a depthwise 1x1 conv.
    return {
      folded: () => {
        const { scale, shift } = bnAffine(own);
        return { weight: perOutput(scale, 4), bias: shift };
      },
    };
  }
  if (!(own instanceof Conv2d || own instanceof Linear)) {
    throw new DstError('E_UNSUPPORTED', `${node.name}: no conv, linear or batch-norm layer of the model computes this node, so quantization-aware training cannot follow it`);
  }
  const normName = foldedNorm(traced, names, node);
  const found = normName === undefined ? undefined : modules.get(normName);
  if (normName !== undefined && !(found instanceof BatchNorm2d)) {
    throw new DstError('E_UNSUPPORTED', `${node.name}: the batch norm folded into it (${normName}) is not a BatchNorm2d of the model`);
  }
  const norm = found as BatchNorm2d | undefined;
  return {
    layerWeight: own.weight,
    folded: () => {
      const weight = maskedWeight(own);
      if (norm === undefined) return { weight, bias: own.bias };
      const { scale, shift } = bnAffine(norm);
      const bias = own.bias === null ? shift : own.bias.mul(scale).add(shift);
      return { weight: weight.mul(perOutput(scale, weight.rank)), bias };
    },
  };
}

/**
 * The fake-quantized forward around a model. It shares the model's
 * parameters, buffers and modules (state-dict keys, checkpoints and
 * optimizers see the model itself) and owns nothing.
 */
export class FakeQuantModel extends Module {
  readonly #sources: Map<string, LayerSource>;

  constructor(
    readonly model: Module,
    readonly graph: Graph,
    sources: Map<string, LayerSource>,
    readonly values: Readonly<Record<string, QuantParams>>,
    readonly weightCodeMax: number,
  ) {
    super();
    this.#sources = sources;
    this.training = model.training;
  }

  override *namedChildren(): Iterable<[string, Module]> {
    yield* this.model.namedChildren();
  }

  override *namedModules(prefix = ''): Iterable<[string, Module]> {
    yield* this.model.namedModules(prefix);
  }

  override *namedParameters(prefix = ''): Iterable<[string, Parameter]> {
    yield* this.model.namedParameters(prefix);
  }

  override *namedBuffers(prefix = ''): Iterable<[string, Tensor]> {
    yield* this.model.namedBuffers(prefix);
  }

  override train(on = true): this {
    this.model.train(on);
    this.training = on;
    return this;
  }

  /** The wrapped model stays its owner's to free. */
  override dispose(): void {}

  #layer(node: ConvNode | LinearNode, x: Tensor): Tensor {
    const source = this.#sources.get(node.name)!;
    const folded = source.folded();
    const scales = weightScales(folded.weight, this.weightCodeMax);
    const w = fakeQuantWeights(folded.weight, scales, this.weightCodeMax);
    const bias = folded.bias === null ? null : fakeQuantBias(folded.bias, scales.mul(this.values[node.input]!.scale));
    if (node.op === 'linear') return F.linear(x, w, bias, source.layerWeight);
    return F.conv2d(x, w, bias, { stride: node.stride, padding: node.padding, dilation: node.dilation, groups: node.groups, layerWeight: source.layerWeight });
  }

  /** `onValue` sees the input and every node's output as the int8 model holds them, e.g. to compare them with its codes. */
  forward(x: Tensor, onValue?: (name: string, value: Tensor) => void): Tensor {
    const q = (name: string): QuantParams => this.values[name]!;
    const values = new Map<string, Tensor>([[GRAPH_INPUT, fakeQuantActivation(x, q(GRAPH_INPUT))]]);
    onValue?.(GRAPH_INPUT, values.get(GRAPH_INPUT)!);
    const get = (name: string): Tensor => values.get(name)!;
    for (const node of this.graph.nodes) {
      let y: Tensor;
      switch (node.op) {
        case 'conv':
        case 'linear':
          y = this.#layer(node, get(node.input));
          break;
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
          y = awayFromZero(F.avgPool2d(get(node.input), node.kernel, { stride: node.stride, padding: node.padding }), q(node.output), node.kernel[0] * node.kernel[1]);
          break;
        case 'globalavgpool': {
          const input = get(node.input);
          y = awayFromZero(F.adaptiveAvgPool2d(input, 1), q(node.output), input.shape[2]! * input.shape[3]!);
          break;
        }
        case 'flatten':
          y = get(node.input).flatten(1);
          break;
        case 'softmax':
          throw new DstError('E_QUANT', `${node.name}: softmax cannot run in int8`);
      }
      if ((node.op === 'conv' || node.op === 'linear' || node.op === 'add') && node.relu) y = y.relu();
      // Sums and averages leave the grid; the int8 engine rounds them onto the output's.
      values.set(node.output, ON_GRID.has(node.op) ? y : fakeQuantActivation(y, q(node.output)));
      onValue?.(node.output, values.get(node.output)!);
    }
    return get(this.graph.output);
  }
}

/**
 * `model` fake-quantized for [C, H, W] inputs: `values` holds the int8 scale
 * and zero point of every value of its exported graph ('input' and each
 * node's output), as quantizeGraph derives them; `source` names where they
 * came from in errors.
 */
export function fakeQuantModel(model: Module, input: Shape3, values: Readonly<Record<string, QuantParams>>, weightCodeMax: number, source: string): FakeQuantModel {
  const traced = traceModel(model, input);
  const graph = lowerTrace(traced);
  checkQuantizable(graph);
  for (const name of [GRAPH_INPUT, ...graph.nodes.map((n) => n.output)]) {
    if (values[name] === undefined) throw new FormatError(source, `has no int8 scale and zero point for value '${name}' of the ${graph.nodes.length}-node graph of this model`);
  }
  const modules = new Map(model.namedModules());
  const names = new Set(graph.nodes.map((n) => n.name));
  const sources = new Map<string, LayerSource>();
  for (const node of graph.nodes) {
    if (node.op === 'conv' || node.op === 'linear') sources.set(node.name, layerSource(modules, traced, names, node));
  }
  return new FakeQuantModel(model, graph, sources, values, weightCodeMax);
}
