/**
 * A .uhp file back to the graph IR, weights expanded to dense with zeros: how
 * `dst bench --model` runs a file through LibTorch and onnxruntime too. The
 * bytes must have passed the engine's reader (native/engine/reader.c), which
 * checks every offset, length, CRC and index; this decoder trusts them, but
 * refuses a version it does not know and an int8 annotation (version 2) that
 * breaks the format's rules.
 */
import { DstError, FormatError } from '../errors.js';
import { RegularFile } from '../regular-file.js';
import { quantFault } from '../quant/check.js';
import { GRAPH_INPUT, type AddRequant, type Graph, type GraphNode, type GraphQuant, type QuantLayer, type QuantParams, type Shape3, type SparsityPattern } from './ir.js';
import { readPatternIndex, uhpBlocks, uhpGeometry, uhpPatternMasks, uhpPosition } from '../sparsity/uhp-geometry.js';
import { like, UHP_HEADER_BYTES, UHP_MAGIC, UHP_VERSION, UHP_VERSION_INT8, type Weights } from './uhp-writer.js';

interface SectionRef {
  offset: number;
  length: number;
}

interface JsonNode {
  op: GraphNode['op'];
  name: string;
  inputs: string[];
  output: string;
  weightShape?: number[];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
  kernel?: [number, number];
  relu?: boolean;
  pattern?: { kind: 'dense' | 'unstructured' | 'uhp'; n?: number; m?: number; block?: number; bits?: number };
  data?: Record<string, number>;
  /** Version 2: the output's int8 parameters, and an add's requantization. */
  q?: QuantParams;
  requant?: AddRequant;
}

interface Header {
  version: number;
  input: { shape: Shape3; cropFrom: [number, number] | null; mean: number[] | null; std: number[] | null; q?: QuantParams };
  output: string;
  nodes: JsonNode[];
  sections: SectionRef[];
}

function section(bytes: Uint8Array, header: Header, index: number | undefined): Uint8Array {
  const ref = header.sections[index!]!;
  return bytes.slice(ref.offset, ref.offset + ref.length);
}

const f32 = (b: Uint8Array) => new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
const u32 = (b: Uint8Array) => new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
const i32 = (b: Uint8Array) => new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
const i8 = (b: Uint8Array) => new Int8Array(b.buffer, b.byteOffset, b.byteLength);

function uhpWeights(shape: number[], n: number, m: number, block: number, bits: number, values: Weights, indices: Uint8Array): Weights {
  const geo = uhpGeometry(shape, m);
  const { groups, rowLength } = geo;
  const masks = uhpPatternMasks(m, n);
  const weight = like(values, geo.outChannels * rowLength);
  uhpBlocks(geo.outChannels, block).forEach((range, b) => {
    for (let g = 0; g < groups; g++) {
      const mask = masks[readPatternIndex(indices, b * groups + g, bits)]!;
      for (let o = range.start; o < range.end; o++) {
        let k = 0;
        for (let j = 0; j < m; j++) {
          if (!((mask >> j) & 1)) continue;
          const pos = uhpPosition(geo, g, j);
          const v = values[(o * groups + g) * n + k++]!;
          if (pos >= 0) weight[o * rowLength + pos] = v;
        }
      }
    }
  });
  return weight;
}

/** A layer's weights expanded to dense with zeros, in the number type of `values`. */
function denseWeights(bytes: Uint8Array, header: Header, node: JsonNode, values: Weights): { weight: Weights; pattern: SparsityPattern } {
  const shape = node.weightShape!;
  const data = node.data!;
  const p = node.pattern!;
  if (p.kind === 'dense') return { weight: values, pattern: { kind: 'dense' } };
  if (p.kind === 'unstructured') {
    const rowptr = u32(section(bytes, header, data.rowptr));
    const colidx = u32(section(bytes, header, data.colidx));
    const outChannels = shape[0]!;
    const perOut = shape.slice(1).reduce((a, b) => a * b, 1);
    const weight = like(values, outChannels * perOut);
    for (let o = 0; o < outChannels; o++) {
      for (let k = rowptr[o]!; k < rowptr[o + 1]!; k++) weight[o * perOut + colidx[k]!] = values[k]!;
    }
    return { weight, pattern: { kind: 'unstructured' } };
  }
  const [n, m, block] = [p.n!, p.m!, p.block!];
  return { weight: uhpWeights(shape, n, m, block, p.bits!, values, section(bytes, header, data.indices)), pattern: { kind: 'uhp', n, m, block } };
}

interface Weighted {
  weight: Float32Array;
  bias: Float32Array | null;
  pattern: SparsityPattern;
}

function floatWeighted(bytes: Uint8Array, header: Header, node: JsonNode): Weighted {
  const data = node.data!;
  const { weight, pattern } = denseWeights(bytes, header, node, f32(section(bytes, header, data.values)));
  const bias = data.bias === undefined ? null : f32(section(bytes, header, data.bias));
  return { weight: weight as Float32Array, bias, pattern };
}

/** An int8 layer, and its dequantized float weights (w = wq * sw, b = bq * s_in * sw) for float consumers. */
function int8Weighted(bytes: Uint8Array, header: Header, node: JsonNode, input: QuantParams): Weighted & { layer: QuantLayer } {
  const data = node.data!;
  const { weight: wq, pattern } = denseWeights(bytes, header, node, i8(section(bytes, header, data.values)));
  const scales = f32(section(bytes, header, data.scales));
  const bq = i32(section(bytes, header, data.bias));
  const requant = i32(section(bytes, header, data.requant));
  const outChannels = scales.length;
  const per = wq.length / outChannels;
  const weight = Float32Array.from(wq, (v, i) => v * scales[Math.floor(i / per)]!);
  const bias = Float32Array.from(bq, (v, o) => v * input.scale * scales[o]!);
  const layer: QuantLayer = {
    weight: wq as Int8Array,
    scales,
    bias: bq,
    mult: Int32Array.from({ length: outChannels }, (_, o) => requant[2 * o]!),
    shift: Int32Array.from({ length: outChannels }, (_, o) => requant[2 * o + 1]!),
  };
  return { weight, bias, pattern, layer };
}

/**
 * The bytes of a .uhp file, read no further than the total length its header
 * declares: a file whose size differs, or that is not a regular file (a
 * device such as /dev/zero, a FIFO), is refused before its body is read.
 */
export async function readUhpFile(file: string): Promise<Uint8Array> {
  let handle: RegularFile;
  try {
    handle = await RegularFile.open(file);
  } catch (err) {
    if (err instanceof DstError) throw err;
    throw new FormatError(file, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const head = await handle.readAt(0, UHP_HEADER_BYTES);
    if (head.length < UHP_HEADER_BYTES) {
      throw new FormatError(file, `file is ${head.length} bytes, shorter than the ${UHP_HEADER_BYTES}-byte header: truncated or not a .uhp file`);
    }
    if (!UHP_MAGIC.every((b, i) => head[i] === b)) throw new FormatError(file, 'bad magic: not a .uhp model file');
    const declared = head.readBigUInt64LE(24);
    if (declared !== BigInt(handle.size)) {
      throw new FormatError(file, `file is ${handle.size} bytes but its header says ${declared}: truncated or extended`);
    }
    const bytes = await handle.readAt(0, handle.size);
    if (bytes.length !== handle.size) throw new FormatError(file, `file shrank to ${bytes.length} bytes while being read`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Decodes .uhp bytes the engine has accepted (version 1, float; version 2, int8); `file` labels errors. */
export function readUhp(bytes: Uint8Array, file: string): Graph {
  if (bytes.length < UHP_HEADER_BYTES || !UHP_MAGIC.every((b, i) => bytes[i] === b)) throw new FormatError(file, 'not a .uhp model file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== UHP_VERSION && version !== UHP_VERSION_INT8) {
    throw new FormatError(file, `format version ${version}; this dst reads versions ${UHP_VERSION} (float) and ${UHP_VERSION_INT8} (int8)`);
  }
  const jsonLength = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(UHP_HEADER_BYTES, UHP_HEADER_BYTES + jsonLength))) as Header;
  const int8 = version === UHP_VERSION_INT8;
  const quant: GraphQuant = { kind: 'int8', values: {}, layers: {}, adds: {} };
  if (int8) quant.values[GRAPH_INPUT] = header.input.q!;
  const weighted = (node: JsonNode): Weighted => {
    if (!int8) return floatWeighted(bytes, header, node);
    const { layer, ...rest } = int8Weighted(bytes, header, node, quant.values[node.inputs[0]!]!);
    quant.layers[node.name] = layer;
    return rest;
  };
  const nodes = header.nodes.map((node): GraphNode => {
    const { op, name, output } = node;
    const input = node.inputs[0]!;
    if (int8) {
      quant.values[output] = node.q!;
      if (op === 'add') quant.adds[name] = node.requant!;
    }
    switch (op) {
      case 'conv':
        return {
          op,
          name,
          input,
          output,
          ...weighted(node),
          weightShape: node.weightShape as [number, number, number, number],
          stride: node.stride!,
          padding: node.padding!,
          dilation: node.dilation!,
          groups: node.groups!,
          relu: node.relu!,
        };
      case 'linear':
        return { op, name, input, output, ...weighted(node), weightShape: node.weightShape as [number, number], relu: node.relu! };
      case 'add':
        return { op, name, inputs: [input, node.inputs[1]!], output, relu: node.relu! };
      case 'maxpool':
      case 'avgpool':
        return { op, name, input, output, kernel: node.kernel!, stride: node.stride!, padding: node.padding! };
      default:
        return { op, name, input, output };
    }
  });
  const { shape, cropFrom, mean, std } = header.input;
  const graph: Graph = { inputShape: shape, preprocess: { cropFrom, mean, std }, nodes, output: header.output };
  if (!int8) return graph;
  const quantized = { ...graph, quant };
  const fault = quantFault(quantized);
  if (fault) throw new FormatError(file, fault);
  return quantized;
}
