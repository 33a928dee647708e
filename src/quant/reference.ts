/**
 * The integer reference of an int8 graph: docs/uhp-format.md's arithmetic,
 * written out literally on plain typed arrays. Slow on purpose: the engine's
 * kernels, every ISA and the generated C are checked against it bit for bit.
 */
import { DstError } from '../errors.js';
import { GRAPH_INPUT, type AddRequant, type ConvNode, type Graph, type GraphQuant, type LinearNode, type PoolNode, type QuantLayer, type QuantParams, type Shape } from '../export/ir.js';
import { inferShapes } from '../export/uhp-shapes.js';
import { clamp8, divRound, requantize, roundHalfAway } from './fixed-point.js';

const ADD_PRESCALE = 2 ** 20;

function quantOf(graph: Graph): GraphQuant {
  if (!graph.quant) throw new DstError('E_QUANT', 'the graph is not quantized (no int8 annotation)');
  return graph.quant;
}

/**
 * One [C, H0, W0] image as the engine takes it (toFloat units) to the int8
 * input: centre crop, then in float32 t = (v - mean) * (1 / std) and
 * q = clamp8(roundf(t / s) + z).
 */
export function quantizeInput(graph: Graph, image: Float32Array): Int8Array {
  const { scale, zeroPoint } = quantOf(graph).values[GRAPH_INPUT]!;
  const [C, H, W] = graph.inputShape;
  const { cropFrom, mean, std } = graph.preprocess;
  const [H0, W0] = cropFrom ?? [H, W];
  if (image.length !== C * H0 * W0) throw new DstError('E_SHAPE', `an input image is ${C}x${H0}x${W0} (${C * H0 * W0} floats), got ${image.length}`);
  const top = Math.floor((H0 - H) / 2);
  const left = Math.floor((W0 - W) / 2);
  const s = Math.fround(scale);
  const out = new Int8Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const m = Math.fround(mean?.[c] ?? 0);
    const inv = std ? Math.fround(1 / Math.fround(std[c]!)) : 1;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const v = Math.fround(image[(c * H0 + top + i) * W0 + left + j]!);
        const t = Math.fround(Math.fround(v - m) * inv);
        out[(c * H + i) * W + j] = clamp8(roundHalfAway(Math.fround(t / s)) + zeroPoint);
      }
    }
  }
  return out;
}

/** Per channel, the int8 input of each 8-bit pixel value p (v = p / 255 in float32): the table a microcontroller build looks pixels up in. */
export function pixelTable(graph: Graph): Int8Array {
  const [C] = graph.inputShape;
  const one: Graph = { ...graph, inputShape: [C, 1, 256], preprocess: { ...graph.preprocess, cropFrom: null } };
  const image = new Float32Array(C * 256);
  for (let c = 0; c < C; c++) for (let p = 0; p < 256; p++) image[c * 256 + p] = Math.fround(p / 255);
  return quantizeInput(one, image);
}

const lower = (relu: boolean, z: number): number => (relu ? z : -128);

function conv(node: ConvNode, layer: QuantLayer, x: Int8Array, xq: QuantParams, inShape: Shape, yq: QuantParams, outShape: Shape): Int8Array {
  const [, H, W] = inShape as [number, number, number];
  const [O, OH, OW] = outShape as [number, number, number];
  const [, Cg, KH, KW] = node.weightShape;
  const Og = O / node.groups;
  const [sh, sw] = node.stride;
  const [ph, pw] = node.padding;
  const [dh, dw] = node.dilation;
  const xz = Int32Array.from(x, (v) => v - xq.zeroPoint);
  const y = new Int8Array(O * OH * OW);
  const lo = lower(node.relu, yq.zeroPoint);
  // Integer sums are exact in any order: one weight at a time over all output pixels; taps outside the image are padding and add 0.
  const acc = new Float64Array(OH * OW);
  for (let o = 0; o < O; o++) {
    const c0 = Math.floor(o / Og) * Cg;
    acc.fill(layer.bias[o]!);
    for (let c = 0; c < Cg; c++) {
      for (let i = 0; i < KH; i++) {
        for (let j = 0; j < KW; j++) {
          const w = layer.weight[((o * Cg + c) * KH + i) * KW + j]!;
          if (w === 0) continue;
          const owFrom = Math.max(0, Math.ceil((pw - j * dw) / sw));
          const owTo = Math.min(OW, Math.floor((W - 1 + pw - j * dw) / sw) + 1);
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - ph + i * dh;
            if (ih < 0 || ih >= H) continue;
            const row = ((c0 + c) * H + ih) * W - pw + j * dw;
            for (let ow = owFrom; ow < owTo; ow++) acc[oh * OW + ow] += w * xz[row + ow * sw]!;
          }
        }
      }
    }
    for (let p = 0; p < OH * OW; p++) {
      const v = yq.zeroPoint + requantize(acc[p]!, layer.mult[o]!, layer.shift[o]!);
      y[o * OH * OW + p] = Math.max(lo, Math.min(127, v));
    }
  }
  return y;
}

function linear(node: LinearNode, layer: QuantLayer, x: Int8Array, xq: QuantParams, yq: QuantParams): Int8Array {
  const [O, I] = node.weightShape;
  const y = new Int8Array(O);
  const lo = lower(node.relu, yq.zeroPoint);
  for (let o = 0; o < O; o++) {
    let acc = layer.bias[o]!;
    for (let k = 0; k < I; k++) acc += (x[k]! - xq.zeroPoint) * layer.weight[o * I + k]!;
    y[o] = Math.max(lo, Math.min(127, yq.zeroPoint + requantize(acc, layer.mult[o]!, layer.shift[o]!)));
  }
  return y;
}

function add(a: Int8Array, aq: QuantParams, b: Int8Array, bq: QuantParams, yq: QuantParams, r: AddRequant, relu: boolean): Int8Array {
  const [[ma, sa], [mb, sb], [mo, so]] = r;
  const lo = lower(relu, yq.zeroPoint);
  const y = new Int8Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const sum = requantize((a[i]! - aq.zeroPoint) * ADD_PRESCALE, ma, sa) + requantize((b[i]! - bq.zeroPoint) * ADD_PRESCALE, mb, sb);
    y[i] = Math.max(lo, Math.min(127, yq.zeroPoint + requantize(sum, mo, so)));
  }
  return y;
}

/** Max or average pooling; q is the input's. Max ignores padding; average counts it as zero (real), dividing by kh*kw. */
function pool(node: PoolNode, x: Int8Array, q: QuantParams, inShape: Shape, outShape: Shape): Int8Array {
  const [C, H, W] = inShape as [number, number, number];
  const [, OH, OW] = outShape as [number, number, number];
  const [KH, KW] = node.kernel;
  const [sh, sw] = node.stride;
  const [ph, pw] = node.padding;
  const y = new Int8Array(C * OH * OW);
  for (let c = 0; c < C; c++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let max = -128;
        let sum = 0;
        for (let i = 0; i < KH; i++) {
          const ih = oh * sh - ph + i;
          if (ih < 0 || ih >= H) continue;
          for (let j = 0; j < KW; j++) {
            const iw = ow * sw - pw + j;
            if (iw < 0 || iw >= W) continue;
            const v = x[(c * H + ih) * W + iw]!;
            max = Math.max(max, v);
            sum += v - q.zeroPoint;
          }
        }
        y[(c * OH + oh) * OW + ow] = node.op === 'maxpool' ? max : clamp8(q.zeroPoint + divRound(sum, KH * KW));
      }
    }
  }
  return y;
}

function globalAvgPool(x: Int8Array, q: QuantParams, inShape: Shape): Int8Array {
  const [C, H, W] = inShape as [number, number, number];
  const y = new Int8Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let k = c * H * W; k < (c + 1) * H * W; k++) sum += x[k]! - q.zeroPoint;
    y[c] = clamp8(q.zeroPoint + divRound(sum, H * W));
  }
  return y;
}

/** Every value of the graph, 'input' included, for one quantized input: what a kernel is compared with layer by layer. */
export function runInt8Values(graph: Graph, input: Int8Array): Map<string, Int8Array> {
  const quant = quantOf(graph);
  const shapes = inferShapes(graph);
  const values = new Map<string, Int8Array>([[GRAPH_INPUT, input]]);
  const get = (name: string): Int8Array => values.get(name)!;
  const q = (name: string): QuantParams => quant.values[name]!;
  for (const node of graph.nodes) {
    let y: Int8Array;
    switch (node.op) {
      case 'conv':
        y = conv(node, quant.layers[node.name]!, get(node.input), q(node.input), shapes.get(node.input)!, q(node.output), shapes.get(node.output)!);
        break;
      case 'linear':
        y = linear(node, quant.layers[node.name]!, get(node.input), q(node.input), q(node.output));
        break;
      case 'add': {
        const [a, b] = node.inputs;
        y = add(get(a), q(a), get(b), q(b), q(node.output), quant.adds[node.name]!, node.relu);
        break;
      }
      case 'relu': {
        const z = q(node.input).zeroPoint;
        y = get(node.input).map((v) => Math.max(v, z));
        break;
      }
      case 'maxpool':
      case 'avgpool':
        y = pool(node, get(node.input), q(node.input), shapes.get(node.input)!, shapes.get(node.output)!);
        break;
      case 'globalavgpool':
        y = globalAvgPool(get(node.input), q(node.input), shapes.get(node.input)!);
        break;
      case 'flatten':
        y = get(node.input);
        break;
      case 'softmax':
        throw new DstError('E_QUANT', `${node.name}: softmax cannot run in int8`);
    }
    values.set(node.output, y);
  }
  return values;
}

export interface Int8Output {
  /** The output value's int8 codes, one image after another. */
  q: Int8Array;
  /** The same dequantized in float32: (q - z) * s, as the engine API returns them. */
  scores: Float32Array;
  scale: number;
  zeroPoint: number;
}

/** Runs `count` images ([C, H0, W0] each, toFloat units, as the engine takes them) through the integer reference. */
export function runInt8(graph: Graph, images: Float32Array, count = 1): Int8Output {
  const { scale, zeroPoint } = quantOf(graph).values[graph.output]!;
  const per = images.length / count;
  const outs: Int8Array[] = [];
  for (let n = 0; n < count; n++) {
    outs.push(runInt8Values(graph, quantizeInput(graph, images.subarray(n * per, (n + 1) * per))).get(graph.output)!);
  }
  const q = new Int8Array(outs.reduce((a, o) => a + o.length, 0));
  outs.forEach((o, n) => q.set(o, n * o.length));
  const scores = Float32Array.from(q, (v) => Math.fround((v - zeroPoint) * scale));
  return { q, scores, scale, zeroPoint };
}
