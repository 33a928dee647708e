/**
 * ONNX export of the IR (opset 13). ONNX has no N:M or block-sparse weight
 * format, so pruned layers are written as dense tensors holding their zeros:
 * the file is as large and runs as fast as the dense model. Preprocessing is
 * not part of the ONNX graph: its input is the normalised [N, C, H, W] tensor.
 */
import { DstError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { dstVersion } from '../version.js';
import { GRAPH_INPUT, type Graph, type GraphNode } from './ir.js';
import { ATTR_INT, ATTR_INTS, ModelProto, ONNX_FLOAT } from './onnx-proto.js';
import { inferShapes } from './uhp-shapes.js';

export const ONNX_OPSET = 13;
/** The IR version that goes with opset 13. */
const ONNX_IR_VERSION = 7;

interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: object[];
}

const ints = (name: string, values: readonly number[]) => ({ name, ints: [...values], type: ATTR_INTS });
const int = (name: string, value: number) => ({ name, i: value, type: ATTR_INT });

function initializer(name: string, dims: readonly number[], values: Float32Array) {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { name, dims: [...dims], dataType: ONNX_FLOAT, rawData: raw };
}

/** ONNX pads are [top, left, bottom, right]. */
const pads = (p: readonly [number, number]) => [p[0], p[1], p[0], p[1]];

export function toOnnxModel(graph: Graph): Uint8Array {
  const shapes = inferShapes(graph);
  const nodes: OnnxNode[] = [];
  const initializers: object[] = [];
  const emit = (node: GraphNode, opType: string, input: string[], attribute: object[] = []) => {
    const relu = (node.op === 'conv' || node.op === 'linear' || node.op === 'add') && node.relu;
    const output = relu ? `${node.output}.pre_relu` : node.output;
    nodes.push({ input, output: [output], name: node.name, opType, attribute });
    if (relu) nodes.push({ input: [output], output: [node.output], name: `${node.name}.relu`, opType: 'Relu', attribute: [] });
  };
  for (const node of graph.nodes) {
    switch (node.op) {
      case 'conv':
      case 'linear': {
        const w = `${node.name}.weight`;
        initializers.push(initializer(w, node.weightShape, node.weight));
        const input = [node.input, w];
        if (node.bias) {
          initializers.push(initializer(`${node.name}.bias`, [node.weightShape[0]], node.bias));
          input.push(`${node.name}.bias`);
        }
        if (node.op === 'linear') {
          emit(node, 'Gemm', input, [int('transB', 1)]);
        } else {
          emit(node, 'Conv', input, [
            ints('kernel_shape', node.weightShape.slice(2)),
            ints('strides', node.stride),
            ints('pads', pads(node.padding)),
            ints('dilations', node.dilation),
            int('group', node.groups),
          ]);
        }
        break;
      }
      case 'relu':
        emit(node, 'Relu', [node.input]);
        break;
      case 'add':
        emit(node, 'Add', [...node.inputs]);
        break;
      case 'maxpool':
        emit(node, 'MaxPool', [node.input], [ints('kernel_shape', node.kernel), ints('strides', node.stride), ints('pads', pads(node.padding))]);
        break;
      case 'avgpool':
        emit(node, 'AveragePool', [node.input], [
          ints('kernel_shape', node.kernel),
          ints('strides', node.stride),
          ints('pads', pads(node.padding)),
          int('count_include_pad', 1),
        ]);
        break;
      case 'globalavgpool':
        emit(node, 'GlobalAveragePool', [node.input]);
        break;
      case 'flatten':
        emit(node, 'Flatten', [node.input], [int('axis', 1)]);
        break;
      case 'softmax':
        if (shapes.get(node.input)?.length !== 1) throw new DstError('E_UNSUPPORTED', `ONNX export: softmax '${node.name}' needs a flattened input`);
        emit(node, 'Softmax', [node.input], [int('axis', 1)]);
        break;
    }
  }
  const valueInfo = (name: string, shape: readonly number[]) => ({
    name,
    type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] } } },
  });
  const model = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'dst',
    producerVersion: dstVersion,
    graph: {
      name: 'dst',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(GRAPH_INPUT, graph.inputShape)],
      output: [valueInfo(graph.output, shapes.get(graph.output)!)],
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Writes the ONNX file atomically; returns its bytes. */
export async function writeOnnxFile(file: string, graph: Graph): Promise<Uint8Array> {
  const bytes = toOnnxModel(graph);
  await writeFileAtomic(file, bytes);
  return bytes;
}
