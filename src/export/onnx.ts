/**
 * ONNX export of the IR (opset 13). ONNX has no N:M or block-sparse weight
 * format, so pruned layers are written as dense tensors holding their zeros:
 * the file is as large and runs as fast as the dense model. Preprocessing is
 * not part of the ONNX graph: its input is the normalised [N, C, H, W] tensor.
 * An int8 graph is written in QDQ form: int8 weights and int32 biases behind
 * DequantizeLinear (per output channel, axis 0), and every value quantized
 * and dequantized where it is made, with the int8 model's scales and zero
 * points, which onnxruntime runs with its int8 kernels.
 */
import { DstError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { dstVersion } from '../version.js';
import { GRAPH_INPUT, type Graph, type GraphNode, type QuantParams } from './ir.js';
import { ATTR_INT, ATTR_INTS, ModelProto, ONNX_FLOAT, ONNX_INT32, ONNX_INT8 } from './onnx-proto.js';
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

function initializer(name: string, dims: readonly number[], values: Float32Array | Int8Array | Int32Array) {
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const dataType = values instanceof Int8Array ? ONNX_INT8 : values instanceof Int32Array ? ONNX_INT32 : ONNX_FLOAT;
  return { name, dims: [...dims], dataType, rawData: raw };
}

/** ONNX pads are [top, left, bottom, right]. */
const pads = (p: readonly [number, number]) => [p[0], p[1], p[0], p[1]];

export function toOnnxModel(graph: Graph): Uint8Array {
  const shapes = inferShapes(graph);
  const nodes: OnnxNode[] = [];
  const initializers: object[] = [];
  const quant = graph.quant;
  /** `made` (float) -> QuantizeLinear -> DequantizeLinear -> `value`, on the value's int8 grid. */
  const qdq = (made: string, value: string, q: QuantParams) => {
    initializers.push(initializer(`${value}.scale`, [], Float32Array.of(q.scale)), initializer(`${value}.zero_point`, [], Int8Array.of(q.zeroPoint)));
    nodes.push({ input: [made, `${value}.scale`, `${value}.zero_point`], output: [`${value}.q`], name: `${value}.quantize`, opType: 'QuantizeLinear', attribute: [] });
    nodes.push({ input: [`${value}.q`, `${value}.scale`, `${value}.zero_point`], output: [value], name: `${value}.dequantize`, opType: 'DequantizeLinear', attribute: [] });
  };
  /** A per-output-channel constant behind DequantizeLinear (zero points 0). */
  const dequantized = (name: string, dims: readonly number[], values: Int8Array | Int32Array, scales: Float32Array) => {
    const zeros = values instanceof Int8Array ? new Int8Array(scales.length) : new Int32Array(scales.length);
    initializers.push(initializer(`${name}.int`, dims, values), initializer(`${name}.scales`, [scales.length], scales), initializer(`${name}.zero_points`, [scales.length], zeros));
    nodes.push({ input: [`${name}.int`, `${name}.scales`, `${name}.zero_points`], output: [name], name: `${name}.dequantize`, opType: 'DequantizeLinear', attribute: [int('axis', 0)] });
  };
  // In QDQ form the graph input is quantized first; nodes read its dequantized copy.
  const inputRef = quant ? `${GRAPH_INPUT}.dequantized` : GRAPH_INPUT;
  if (quant) qdq(GRAPH_INPUT, inputRef, quant.values[GRAPH_INPUT]!);
  const ref = (value: string) => (value === GRAPH_INPUT ? inputRef : value);
  const emit = (node: GraphNode, opType: string, input: string[], attribute: object[] = []) => {
    const relu = (node.op === 'conv' || node.op === 'linear' || node.op === 'add') && node.relu;
    const made = quant ? `${node.output}.float` : node.output;
    const output = relu ? `${node.output}.pre_relu` : made;
    nodes.push({ input: input.map(ref), output: [output], name: node.name, opType, attribute });
    if (relu) nodes.push({ input: [output], output: [made], name: `${node.name}.relu`, opType: 'Relu', attribute: [] });
    if (quant) qdq(made, node.output, quant.values[node.output]!);
  };
  for (const node of graph.nodes) {
    switch (node.op) {
      case 'conv':
      case 'linear': {
        const w = `${node.name}.weight`;
        const input = [node.input, w];
        const layer = quant?.layers[node.name];
        if (layer) {
          dequantized(w, node.weightShape, layer.weight, layer.scales);
          const inScale = quant!.values[node.input]!.scale;
          dequantized(`${node.name}.bias`, [node.weightShape[0]], layer.bias, layer.scales.map((s) => inScale * s));
          input.push(`${node.name}.bias`);
        } else {
          initializers.push(initializer(w, node.weightShape, node.weight));
          if (node.bias) {
            initializers.push(initializer(`${node.name}.bias`, [node.weightShape[0]], node.bias));
            input.push(`${node.name}.bias`);
          }
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
