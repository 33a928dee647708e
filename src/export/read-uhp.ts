/**
 * A .uhp file back to the graph IR, weights expanded to dense with zeros: how
 * `dst bench --model` runs a file through LibTorch and onnxruntime too. The
 * bytes must have passed the engine's reader (native/engine/reader.c), which
 * checks every offset, length, CRC and index; this decoder trusts them.
 */
import { DstError, FormatError } from '../errors.js';
import { RegularFile } from '../regular-file.js';
import type { Graph, GraphNode, Shape3, SparsityPattern } from './ir.js';
import { readPatternIndex, uhpBlocks, uhpGeometry, uhpPatternMasks, uhpPosition } from '../sparsity/uhp-geometry.js';
import { UHP_HEADER_BYTES, UHP_MAGIC } from './uhp-writer.js';

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
}

interface Header {
  input: { shape: Shape3; cropFrom: [number, number] | null; mean: number[] | null; std: number[] | null };
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

function uhpWeights(shape: number[], n: number, m: number, block: number, bits: number, values: Float32Array, indices: Uint8Array): Float32Array {
  const geo = uhpGeometry(shape, m);
  const { groups, rowLength } = geo;
  const masks = uhpPatternMasks(m, n);
  const weight = new Float32Array(geo.outChannels * rowLength);
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

function weighted(bytes: Uint8Array, header: Header, node: JsonNode): { weight: Float32Array; bias: Float32Array | null; pattern: SparsityPattern } {
  const shape = node.weightShape!;
  const data = node.data!;
  const p = node.pattern!;
  const values = f32(section(bytes, header, data.values));
  const bias = data.bias === undefined ? null : f32(section(bytes, header, data.bias));
  if (p.kind === 'dense') return { weight: values, bias, pattern: { kind: 'dense' } };
  if (p.kind === 'unstructured') {
    const rowptr = u32(section(bytes, header, data.rowptr));
    const colidx = u32(section(bytes, header, data.colidx));
    const outChannels = shape[0]!;
    const perOut = shape.slice(1).reduce((a, b) => a * b, 1);
    const weight = new Float32Array(outChannels * perOut);
    for (let o = 0; o < outChannels; o++) {
      for (let k = rowptr[o]!; k < rowptr[o + 1]!; k++) weight[o * perOut + colidx[k]!] = values[k]!;
    }
    return { weight, bias, pattern: { kind: 'unstructured' } };
  }
  const [n, m, block] = [p.n!, p.m!, p.block!];
  return { weight: uhpWeights(shape, n, m, block, p.bits!, values, section(bytes, header, data.indices)), bias, pattern: { kind: 'uhp', n, m, block } };
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

/** Decodes .uhp bytes the engine has accepted; `file` labels errors. */
export function readUhp(bytes: Uint8Array, file: string): Graph {
  if (bytes.length < UHP_HEADER_BYTES || !UHP_MAGIC.every((b, i) => bytes[i] === b)) throw new FormatError(file, 'not a .uhp model file (bad magic)');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(UHP_HEADER_BYTES, UHP_HEADER_BYTES + jsonLength))) as Header;
  const nodes = header.nodes.map((node): GraphNode => {
    const { op, name, output } = node;
    const input = node.inputs[0]!;
    switch (op) {
      case 'conv':
        return {
          op,
          name,
          input,
          output,
          ...weighted(bytes, header, node),
          weightShape: node.weightShape as [number, number, number, number],
          stride: node.stride!,
          padding: node.padding!,
          dilation: node.dilation!,
          groups: node.groups!,
          relu: node.relu!,
        };
      case 'linear':
        return { op, name, input, output, ...weighted(bytes, header, node), weightShape: node.weightShape as [number, number], relu: node.relu! };
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
  return { inputShape: shape, preprocess: { cropFrom, mean, std }, nodes, output: header.output };
}
