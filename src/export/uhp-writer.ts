/**
 * Writes the .uhp model file (docs/uhp-format.md): a fixed header, a JSON
 * description of the graph and 64-byte aligned binary sections with the
 * compact weights. Dense weights with zeros arrive; the compact layout is
 * derived here, and a weight whose zeros break its declared pattern is refused.
 */
import { DstError, ShapeError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { crc32 } from '../crc32.js';
import { inferShapes } from './uhp-shapes.js';
import {
  describeUhpBlock,
  describeUhpGroup,
  packedIndexBytes,
  uhpBlocks,
  uhpGeometry,
  uhpOccupancy,
  uhpOccupancyFor,
  uhpPatternBits,
  uhpPatternRanks,
  uhpPosition,
  writePatternIndex,
} from '../sparsity/uhp-geometry.js';
import { quantFault } from '../quant/check.js';
import { GRAPH_INPUT, nodeInputs, type ConvNode, type Graph, type LinearNode, type QuantLayer, type QuantParams } from './ir.js';

export const UHP_MAGIC = Uint8Array.of(0x89, 0x55, 0x48, 0x50, 0x0d, 0x0a, 0x1a, 0x0a);
/** Float models; int8 models are version 2, so a version-1 reader refuses them with its version error. */
export const UHP_VERSION = 1;
export const UHP_VERSION_INT8 = 2;
export const UHP_HEADER_BYTES = 32;
export const UHP_ALIGN = 64;

type Json = Record<string, unknown>;

class Sections {
  readonly parts: Uint8Array[] = [];
  add(bytes: Uint8Array): number {
    this.parts.push(bytes);
    return this.parts.length - 1;
  }
  /** The array's little-endian bytes (every host dst runs on is little-endian). */
  typed(values: Float32Array | Uint32Array | Int32Array | Int8Array): number {
    return this.add(new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice());
  }
}

/** The format's bounds on a UHP pattern (wider than training's M in {2, 4, 8, 16}). */
function checkUhpParams(layer: string, n: number, m: number, block: number): void {
  const ok =
    Number.isInteger(m) && m >= 2 && m <= 16 &&
    Number.isInteger(n) && n >= 1 && n < m &&
    Number.isInteger(block) && block >= 1;
  if (!ok) throw new ShapeError(`${layer}: UHP pattern ${n}:${m}:${block} needs 2 <= M <= 16, 1 <= N < M, B >= 1`);
}

/** Weights of a layer as one kind of number: float32, or the int8 of a quantized model. */
export type Weights = Float32Array | Int8Array;

/** A zeroed array of `length` of the same kind as `weights`. */
export const like = (weights: Weights, length: number): Weights => (weights instanceof Int8Array ? new Int8Array(length) : new Float32Array(length));

/**
 * Kept values, per output channel and group in position order, and the packed
 * pattern indices per block and group, derived from the zeros of `weights`.
 */
function packUhp(node: ConvNode | LinearNode, weights: Weights, n: number, m: number, block: number) {
  const geo = uhpGeometry(node.weightShape, m);
  const { groups, rowLength } = geo;
  const blocks = uhpBlocks(geo.outChannels, block);
  const bits = uhpPatternBits(m, n);
  const ranks = uhpPatternRanks(m, n);
  const values = like(weights, geo.outChannels * groups * n);
  const indices = new Uint8Array(packedIndexBytes(blocks.length * groups, bits));
  const occupancy = uhpOccupancyFor(geo);
  blocks.forEach((range, b) => {
    uhpOccupancy(weights, geo, range, occupancy);
    for (let g = 0; g < groups; g++) {
      let mask = occupancy.any[g]!;
      let count = occupancy.count[g]!;
      if (count > n) {
        throw new ShapeError(
          `${node.name}: ${describeUhpBlock(range)}, ${describeUhpGroup(geo, g)} hold ${count} non-zeros; pattern ${n}:${m} keeps at most ${n}`,
        );
      }
      // Fewer non-zeros than N: keep zeros too, real positions before padding.
      for (let j = 0; j < m && count < n; j++) {
        if (!((mask >> j) & 1)) {
          mask |= 1 << j;
          count++;
        }
      }
      for (let o = range.start; o < range.end; o++) {
        let k = 0;
        for (let j = 0; j < m; j++) {
          if (!((mask >> j) & 1)) continue;
          const pos = uhpPosition(geo, g, j);
          values[(o * groups + g) * n + k++] = pos < 0 ? 0 : weights[o * rowLength + pos]!;
        }
      }
      writePatternIndex(indices, b * groups + g, bits, ranks[mask]);
    }
  });
  return { values, indices, bits, grouping: geo.grouping };
}

function packCsr(node: ConvNode | LinearNode, weights: Weights) {
  const outChannels = node.weightShape[0];
  const perOut = weights.length / outChannels;
  const rowptr = new Uint32Array(outChannels + 1);
  let nnz = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0) nnz++;
  const colidx = new Uint32Array(nnz);
  const values = like(weights, nnz);
  let k = 0;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < perOut; i++) {
      const v = weights[o * perOut + i]!;
      if (v === 0) continue;
      colidx[k] = i;
      values[k++] = v;
    }
    rowptr[o + 1] = k;
  }
  return { rowptr, colidx, values, nnz };
}

/**
 * A conv/linear node's attributes and sections. An int8 layer's kept set
 * comes from the zeros of its int8 weights (a superset of the float zeros),
 * so the file is a function of the quantized model alone.
 */
function weightedNode(node: ConvNode | LinearNode, sections: Sections, int8: QuantLayer | undefined): Json {
  const data: Json = {};
  let pattern: Json;
  const p = node.pattern;
  const weights = int8?.weight ?? node.weight;
  if (p.kind === 'dense') {
    pattern = { kind: 'dense' };
    data.values = sections.typed(weights);
  } else if (p.kind === 'uhp') {
    checkUhpParams(node.name, p.n, p.m, p.block);
    const packed = packUhp(node, weights, p.n, p.m, p.block);
    pattern = { kind: 'uhp', n: p.n, m: p.m, block: p.block, grouping: packed.grouping, bits: packed.bits };
    data.values = sections.typed(packed.values);
    data.indices = sections.add(packed.indices);
  } else {
    const csr = packCsr(node, weights);
    pattern = { kind: 'unstructured', nnz: csr.nnz };
    data.values = sections.typed(csr.values);
    data.rowptr = sections.typed(csr.rowptr);
    data.colidx = sections.typed(csr.colidx);
  }
  if (int8) {
    data.bias = sections.typed(int8.bias);
    data.scales = sections.typed(int8.scales);
    const requant = new Int32Array(2 * int8.mult.length);
    int8.mult.forEach((m, o) => requant.set([m, int8.shift[o]!], 2 * o));
    data.requant = sections.typed(requant);
  } else if (node.bias) {
    data.bias = sections.typed(node.bias);
  }
  const attrs: Json = { weightShape: node.weightShape, relu: node.relu, pattern, data };
  if (node.op === 'conv') {
    Object.assign(attrs, { stride: node.stride, padding: node.padding, dilation: node.dilation, groups: node.groups });
  }
  return attrs;
}

const align = (n: number): number => Math.ceil(n / UHP_ALIGN) * UHP_ALIGN;

const qJson = (q: QuantParams): Json => ({ scale: q.scale, zeroPoint: q.zeroPoint });

/**
 * The .uhp bytes of a graph: version 1 for a float graph, version 2 for one
 * with an int8 annotation. Throws ShapeError for a misfit graph or a weight
 * that breaks its pattern, DstError for an incomplete int8 annotation.
 */
export function writeUhp(graph: Graph): Uint8Array {
  const shapes = inferShapes(graph);
  const quant = graph.quant;
  if (quant) {
    const fault = quantFault(graph);
    if (fault) throw new DstError('E_QUANT', fault);
  }
  const version = quant ? UHP_VERSION_INT8 : UHP_VERSION;
  const c = graph.inputShape[0];
  const pre = graph.preprocess;
  for (const [key, v] of [['mean', pre.mean], ['std', pre.std]] as const) {
    if (v && (v.length !== c || !v.every((x) => Number.isFinite(x) && (key === 'mean' || x !== 0)))) {
      throw new ShapeError(`preprocess.${key}: needs ${c} finite values${key === 'std' ? ', none zero' : ''}`);
    }
  }
  if (pre.cropFrom && !(pre.cropFrom[0] >= graph.inputShape[1] && pre.cropFrom[1] >= graph.inputShape[2])) {
    throw new ShapeError(`preprocess.cropFrom [${pre.cropFrom.join(', ')}] is smaller than the input [${graph.inputShape.slice(1).join(', ')}]`);
  }
  const sections = new Sections();
  const nodes = graph.nodes.map((node): Json => {
    const base: Json = { op: node.op, name: node.name, inputs: nodeInputs(node), output: node.output, shape: shapes.get(node.output) };
    if (quant) base.q = qJson(quant.values[node.output]!);
    switch (node.op) {
      case 'conv':
      case 'linear':
        return { ...base, ...weightedNode(node, sections, quant?.layers[node.name]) };
      case 'add':
        return { ...base, relu: node.relu, ...(quant ? { requant: quant.adds[node.name] } : {}) };
      case 'maxpool':
      case 'avgpool':
        return { ...base, kernel: node.kernel, stride: node.stride, padding: node.padding };
      default:
        return base;
    }
  });

  // Section offsets depend on the JSON length, which depends on the offsets:
  // settle by re-serialising until the length stops changing.
  let jsonBytes = new Uint8Array(0);
  let table: Json[] = [];
  for (let guess = 0; ; ) {
    let offset = align(UHP_HEADER_BYTES + guess);
    table = sections.parts.map((part) => {
      const entry = { offset, length: part.length, crc32: crc32(part) };
      offset = align(offset + part.length);
      return entry;
    });
    const header = {
      format: 'dst-uhp',
      version,
      ...(quant ? { quant: 'int8' } : {}),
      input: { shape: graph.inputShape, cropFrom: pre.cropFrom, mean: pre.mean, std: pre.std, ...(quant ? { q: qJson(quant.values[GRAPH_INPUT]!) } : {}) },
      output: graph.output,
      outputShape: shapes.get(graph.output),
      nodes,
      sections: table,
    };
    jsonBytes = new TextEncoder().encode(JSON.stringify(header));
    if (align(UHP_HEADER_BYTES + jsonBytes.length) === align(UHP_HEADER_BYTES + guess)) break;
    guess = jsonBytes.length;
  }
  const last = table.at(-1) as { offset: number; length: number } | undefined;
  const total = last ? last.offset + last.length : UHP_HEADER_BYTES + jsonBytes.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(UHP_MAGIC, 0);
  view.setUint32(8, version, true);
  view.setUint32(12, jsonBytes.length, true);
  view.setUint32(16, crc32(jsonBytes), true);
  view.setUint32(20, sections.parts.length, true);
  view.setBigUint64(24, BigInt(total), true);
  out.set(jsonBytes, UHP_HEADER_BYTES);
  sections.parts.forEach((part, i) => out.set(part, (table[i] as { offset: number }).offset));
  return out;
}

/** Writes a graph to `file` atomically; returns the bytes written. */
export async function writeUhpFile(file: string, graph: Graph): Promise<Uint8Array> {
  const bytes = writeUhp(graph);
  await writeFileAtomic(file, bytes);
  return bytes;
}

/** Bytes of the graph's weights and biases as dense fp32: the yardstick for .uhp file sizes. */
export function denseWeightBytes(graph: Graph): number {
  let n = 0;
  for (const node of graph.nodes) {
    if (node.op === 'conv' || node.op === 'linear') n += node.weight.length + (node.bias?.length ?? 0);
  }
  return n * 4;
}
