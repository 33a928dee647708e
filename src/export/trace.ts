/**
 * Graph capture: runs one eval-mode forward pass of a zero image with an op
 * tracer installed and turns the recorded calls into the IR (src/export/ir.ts),
 * with BatchNorm still separate (src/export/fold.ts folds it).
 *
 * Every recorded tensor maps to an IR value; an in-place op gives the same
 * Tensor object a new value, so later readers see the op's result.
 * Elementwise ops whose inputs are all untraced (parameters, buffers, masks)
 * are constant work and are ignored. A layer op that reads a value the tracer
 * never saw names the layer: something before it used an op the IR cannot
 * express.
 */
import { DstError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { tidy } from '../torch/scope.js';
import { setOpTracer, type OpTracer } from '../torch/trace-hook.js';
import { noGrad, zeros, type Tensor } from '../torch/tensor.js';
import { GRAPH_INPUT, type GraphNode, type Shape3 } from './ir.js';

/** Eval-mode BatchNorm as y = x·scale[c] + shift[c]. */
export interface BatchNormNode {
  op: 'batchnorm';
  name: string;
  input: string;
  output: string;
  scale: Float32Array;
  shift: Float32Array;
}

export type TracedNode = GraphNode | BatchNormNode;

export interface TracedGraph {
  inputShape: Shape3;
  nodes: TracedNode[];
  output: string;
}

/** An op the IR cannot express, or one used in a way it cannot express. */
export class UnsupportedOpError extends DstError {
  constructor(
    readonly op: string,
    readonly layer: string,
    detail: string,
  ) {
    super('E_UNSUPPORTED', `cannot export op '${op}' in layer ${layer}: ${detail}`);
    this.name = 'UnsupportedOpError';
  }
}

const ELEMENTWISE = new Set(['add', 'relu', 'reshape']);

type Pair = number | readonly [number, number];
type Attrs = Readonly<Record<string, unknown>>;

function pair(value: unknown): [number, number] {
  const v = value as Pair;
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

class Recorder implements OpTracer {
  readonly nodes: TracedNode[] = [];
  readonly values = new Map<Tensor, string>();
  readonly #names = new Set<string>();
  /** Module paths and class names of the forward calls in progress, outermost first. */
  readonly stack: { path: string; kind: string }[] = [];

  constructor(
    /** Parameter and buffer tensors by state-dict key. */
    private readonly keys: ReadonlyMap<Tensor, string>,
  ) {}

  get layer(): string {
    const top = this.stack.at(-1);
    return top === undefined ? 'model' : `'${top.path || '(root)'}' (${top.kind})`;
  }

  #fail(op: string, detail: string): never {
    throw new UnsupportedOpError(op, this.layer, detail);
  }

  /** A unique node name: the layer's own name for weighted ops, else `<module>.<op>`, numbered on repeats. */
  #name(base: string): string {
    let name = base;
    for (let i = 1; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  #opName(op: string): string {
    const path = this.stack.at(-1)?.path ?? '';
    return this.#name(path ? `${path}.${op}` : op);
  }

  #layerName(weight: Tensor, op: string): string {
    const key = this.keys.get(weight);
    return key !== undefined && key.endsWith('.weight') ? this.#name(key.slice(0, -'.weight'.length)) : this.#opName(op);
  }

  #value(op: string, t: Tensor): string {
    const v = this.values.get(t);
    if (v === undefined) this.#fail(op, 'its input comes from an operation the exporter does not trace (only conv, batch norm, linear, relu, add, pooling, flatten, dropout and softmax are)');
    return v;
  }

  #floats(t: Tensor | null): Float32Array | null {
    return t === null ? null : (t.to('float32').data() as Float32Array);
  }

  record(op: string, output: Tensor, inputs: readonly (Tensor | number | null)[], attrs: Attrs = {}): void {
    const tensors = inputs.filter((t): t is Tensor => t !== null && typeof t !== 'number');
    // Elementwise and shape ops also serve weight arithmetic (masks); layer ops only ever see activations.
    if (!tensors.some((t) => this.values.has(t)) && ELEMENTWISE.has(op)) return;
    const node = this.#node(op, output, inputs, attrs);
    if (typeof node === 'string') {
      this.values.set(output, node);
      return;
    }
    this.nodes.push(node);
    this.values.set(output, node.output);
  }

  /** The IR node for one call, or the value it passes through unchanged. */
  #node(op: string, output: Tensor, inputs: readonly (Tensor | number | null)[], attrs: Attrs): TracedNode | string {
    const x = inputs[0] as Tensor;
    if (op === 'add' && !this.values.has(x)) this.#fail(op, 'adding an activation to a constant tensor is not supported');
    const input = this.#value(op, x);
    switch (op) {
      case 'conv2d': {
        const [, weight, bias, layerWeight] = inputs as [Tensor, Tensor, Tensor | null, Tensor];
        const name = this.#layerName(layerWeight, 'conv');
        const [o, c, kh, kw] = weight.shape as [number, number, number, number];
        return {
          op: 'conv',
          name,
          input,
          output: name,
          weight: this.#floats(weight)!,
          weightShape: [o, c, kh, kw],
          bias: this.#floats(bias),
          stride: pair(attrs.stride),
          padding: pair(attrs.padding),
          dilation: pair(attrs.dilation),
          groups: attrs.groups as number,
          relu: false,
          pattern: { kind: 'dense' },
        };
      }
      case 'linear': {
        const [, weight, bias, layerWeight] = inputs as [Tensor, Tensor, Tensor | null, Tensor];
        if (x.rank !== 2) this.#fail(op, `input has rank ${x.rank}; only [batch, features] inputs are supported`);
        const name = this.#layerName(layerWeight, 'linear');
        const [o, i] = weight.shape as [number, number];
        return { op: 'linear', name, input, output: name, weight: this.#floats(weight)!, weightShape: [o, i], bias: this.#floats(bias), relu: false, pattern: { kind: 'dense' } };
      }
      case 'batchNorm':
        return this.#batchNorm(input, inputs, attrs);
      case 'relu': {
        const name = this.#opName('relu');
        return { op: 'relu', name, input, output: name };
      }
      case 'add': {
        const other = inputs[1];
        if (typeof other === 'number' || other === null) this.#fail(op, 'adding a constant number is not supported');
        if (attrs.alpha !== 1) this.#fail(op, `alpha ${String(attrs.alpha)} is not supported (only 1)`);
        if (!this.values.has(other!)) this.#fail(op, 'adding a constant tensor to an activation is not supported');
        if (x.shape.join('x') !== other!.shape.join('x')) this.#fail(op, `broadcasting [${x.shape.join(', ')}] + [${other!.shape.join(', ')}] is not supported`);
        const name = this.#opName('add');
        return { op: 'add', name, inputs: [input, this.values.get(other!)!], output: name, relu: false };
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        if (attrs.ceilMode) this.#fail(op, 'ceil mode is not supported');
        if (op === 'maxPool2d' && pair(attrs.dilation).some((d) => d !== 1)) this.#fail(op, 'dilation is not supported');
        const padding = pair(attrs.padding);
        if (op === 'avgPool2d' && attrs.countIncludePad === false && padding.some((p) => p > 0)) this.#fail(op, 'countIncludePad=false with padding is not supported');
        const kind = op === 'maxPool2d' ? 'maxpool' : 'avgpool';
        const name = this.#opName(kind);
        return { op: kind, name, input, output: name, kernel: pair(attrs.kernel), stride: pair(attrs.stride), padding };
      }
      case 'adaptiveAvgPool2d': {
        const [, , h, w] = x.shape as number[];
        const [oh, ow] = pair(attrs.outputSize);
        if (oh === h && ow === w) return input;
        if (oh !== 1 || ow !== 1) this.#fail(op, `output size ${oh}x${ow} from ${h}x${w} is not supported (only 1x1 or the input size)`);
        const name = this.#opName('globalavgpool');
        return { op: 'globalavgpool', name, input, output: name };
      }
      case 'dropout':
        if (attrs.training) this.#fail(op, 'dropout in training mode');
        return input;
      case 'reshape':
        return this.#reshape(input, x, output);
      case 'softmax': {
        const dim = attrs.dim as number;
        if (x.rank !== 2 || (dim !== 1 && dim !== -1)) this.#fail(op, `softmax over dim ${dim} of a rank-${x.rank} tensor is not supported (only over the features of [batch, features])`);
        const name = this.#opName('softmax');
        return { op: 'softmax', name, input, output: name };
      }
      default:
        return this.#fail(op, 'no IR equivalent');
    }
  }

  #batchNorm(input: string, inputs: readonly (Tensor | number | null)[], attrs: Attrs): BatchNormNode {
    const [, mean, variance, weight, bias] = inputs as [Tensor, Tensor | null, Tensor | null, Tensor | null, Tensor | null];
    if (attrs.training || mean === null || variance === null) this.#fail('batchNorm', 'batch statistics (training mode, or no running statistics) cannot be folded');
    const key = this.keys.get(mean!);
    const name = key !== undefined && key.endsWith('.running_mean') ? this.#name(key.slice(0, -'.running_mean'.length)) : this.#opName('batchnorm');
    const m = this.#floats(mean)!;
    const v = this.#floats(variance)!;
    const g = this.#floats(weight);
    const b = this.#floats(bias);
    const eps = attrs.eps as number;
    const scale = new Float32Array(m.length);
    const shift = new Float32Array(m.length);
    for (let c = 0; c < m.length; c++) {
      const s = (g?.[c] ?? 1) / Math.sqrt(v[c]! + eps);
      scale[c] = s;
      shift[c] = (b?.[c] ?? 0) - m[c]! * s;
    }
    return { op: 'batchnorm', name, input, output: name, scale, shift };
  }

  /** Same shape: a pass-through; [1, C, H, W] -> [1, C·H·W]: a flatten; anything else is unsupported. */
  #reshape(input: string, x: Tensor, output: Tensor): string | TracedNode {
    const from = x.shape;
    const to = output.shape;
    if (from.join('x') === to.join('x')) return input;
    if (from.length === 4 && to.length === 2 && to[0] === from[0] && to[1] === from[1]! * from[2]! * from[3]!) {
      const name = this.#opName('flatten');
      return { op: 'flatten', name, input, output: name };
    }
    if (from.length === 4 && to.length === 4 && from[0] === to[0] && from[1]! * from[2]! * from[3]! === to[1]! * to[2]! * to[3]! && from[2] === 1 && to[2] === 1) return input;
    return this.#fail('reshape', `[${from.join(', ')}] -> [${to.join(', ')}] is not supported (only flattening [batch, C, H, W] to [batch, C·H·W])`);
  }
}

/**
 * Makes every module's forward record its path while it runs, so errors and
 * op names say which layer they come from. Returns the undo.
 */
function instrumentModules(model: Module, recorder: Recorder): () => void {
  const patched: Module[] = [];
  for (const [path, module] of model.namedModules()) {
    const original = module.forward;
    const kind = module.constructor.name;
    Object.defineProperty(module, 'forward', {
      configurable: true,
      writable: true,
      value: (x: Tensor): Tensor => {
        recorder.stack.push({ path, kind });
        try {
          return original.call(module, x);
        } finally {
          recorder.stack.pop();
        }
      },
    });
    patched.push(module);
  }
  return () => {
    for (const module of patched) Reflect.deleteProperty(module, 'forward');
  };
}

/**
 * Traces `model` (left in its own train/eval mode afterwards) for one image of
 * `input` = [C, H, W]. Throws UnsupportedOpError naming the op and the layer.
 */
export function traceModel(model: Module, input: Shape3): TracedGraph {
  const keys = new Map<Tensor, string>();
  for (const [key, p] of model.namedParameters()) keys.set(p, key);
  for (const [key, b] of model.namedBuffers()) keys.set(b, key);
  const recorder = new Recorder(keys);
  const wasTraining = model.training;
  const restore = instrumentModules(model, recorder);
  model.eval();
  const previous = setOpTracer(recorder);
  try {
    const output = noGrad(() =>
      tidy(() => {
        const x = zeros([1, ...input]);
        recorder.values.set(x, GRAPH_INPUT);
        const y = model.forward(x);
        const value = recorder.values.get(y);
        if (value === undefined) throw new UnsupportedOpError('output', 'model', 'the returned tensor comes from an operation the exporter does not trace');
        if (y.rank !== 2) throw new UnsupportedOpError('output', 'model', `the model returns a rank-${y.rank} tensor; only [batch, features] outputs are supported`);
        return value;
      }),
    );
    if (output === GRAPH_INPUT) throw new UnsupportedOpError('output', 'model', 'the model returns its input unchanged');
    return { inputShape: [...input], nodes: recorder.nodes, output };
  } finally {
    setOpTracer(previous);
    restore();
    model.train(wasTraining);
  }
}
