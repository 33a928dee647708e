/**
 * Post-training int8 quantization of a graph (docs/uhp-format.md, version 2):
 * calibrated activation ranges, per-channel int8 weights, int32 biases and
 * fixed-point requantization, attached as `graph.quant`.
 */
import { DstError } from '../errors.js';
import { GRAPH_INPUT, type Graph, type GraphQuant, type QuantParams } from '../export/ir.js';
import { PASS_THROUGH } from './check.js';
import { calibrateRanges, type CalibrationOptions, type CalibrationSet } from './calibrate.js';
import { activationParams, addRequant, quantizeLayer } from './params.js';

/** Refuses, naming the layer, a graph the int8 engine cannot run. */
export function checkQuantizable(graph: Graph): void {
  if (graph.quant) throw new DstError('E_QUANT', 'the graph is already quantized to int8');
  for (const node of graph.nodes) {
    if (node.op === 'softmax') {
      throw new DstError('E_QUANT', `${node.name}: softmax cannot run in int8 (its probabilities need more than 256 levels); export the logits`);
    }
  }
}

/** The value whose scale the graph output takes: the output itself, or what the pass-through ops before it read. */
function outputSource(graph: Graph): string {
  let value = graph.output;
  for (;;) {
    const node = graph.nodes.find((n) => n.output === value);
    if (!node || !PASS_THROUGH.has(node.op)) return value;
    value = (node as { input: string }).input;
  }
}

/**
 * The graph with its int8 annotation. Ranges come from running the float
 * graph over `calibration` with `options.method`; failures name the layer,
 * bad calibration data names `options.label`.
 */
export function quantizeGraph(graph: Graph, calibration: CalibrationSet, options: CalibrationOptions): Graph {
  checkQuantizable(graph);
  const calibrated = [GRAPH_INPUT, ...graph.nodes.filter((n) => !PASS_THROUGH.has(n.op)).map((n) => n.output)];
  // The top of the logits' range is where argmax reads: clipping it makes the leading classes tie at 127.
  const ranges = calibrateRanges(graph, calibration, calibrated, { ...options, fullRange: new Set([outputSource(graph)]) });
  const values: Record<string, QuantParams> = {};
  const [inLo, inHi] = ranges.get(GRAPH_INPUT)!;
  values[GRAPH_INPUT] = activationParams(inLo, inHi, GRAPH_INPUT);
  for (const node of graph.nodes) {
    if (PASS_THROUGH.has(node.op)) {
      values[node.output] = values[(node as { input: string }).input]!;
      continue;
    }
    const [lo, hi] = ranges.get(node.output)!;
    values[node.output] = activationParams(lo, hi, node.name);
  }
  return quantizeWithValues(graph, values);
}

/** The graph's int8 annotation from every value's scale and zero point: weights, biases and rescalings derived from them. */
export function quantizeWithValues(graph: Graph, values: Record<string, QuantParams>): Graph {
  const q = (name: string): QuantParams => values[name]!;
  const quant: GraphQuant = { kind: 'int8', values, layers: {}, adds: {} };
  for (const node of graph.nodes) {
    if (node.op === 'conv' || node.op === 'linear') quant.layers[node.name] = quantizeLayer(node, q(node.input), q(node.output));
    else if (node.op === 'add') quant.adds[node.name] = addRequant(q(node.inputs[0]), q(node.inputs[1]), q(node.output), node.name);
  }
  return { ...graph, quant };
}
