/**
 * The rules an int8 annotation obeys (docs/uhp-format.md, version 2), checked
 * by the writer before a byte is written and by the reader after decoding:
 * the first fault as one line naming the layer or value.
 */
import { GRAPH_INPUT, type Graph, type GraphNode, type QuantParams } from '../export/ir.js';
import { MULT_MAX, MULT_MIN, SHIFT_MAX, SHIFT_MIN } from './fixed-point.js';

/** Ops whose output is their input's values rearranged or a subset of them, so it keeps the input's scale and zero point. */
export const PASS_THROUGH: ReadonlySet<GraphNode['op']> = new Set<GraphNode['op']>(['relu', 'maxpool', 'avgpool', 'globalavgpool', 'flatten']);

function paramsFault(q: QuantParams | undefined): string | null {
  if (!q) return 'has no int8 scale and zero point';
  if (!(Number.isFinite(q.scale) && q.scale > 0 && Math.fround(q.scale) === q.scale)) return `scale ${q.scale} is not a finite positive float32`;
  if (!(Number.isInteger(q.zeroPoint) && q.zeroPoint >= -128 && q.zeroPoint <= 127)) return `zero point ${q.zeroPoint} is not an integer in -128..127`;
  return null;
}

function requantFault(mult: number, shift: number): string | null {
  if (!(Number.isInteger(mult) && mult >= MULT_MIN && mult <= MULT_MAX)) return `multiplier ${mult} is outside [2^30, 2^31 - 1]`;
  if (!(Number.isInteger(shift) && shift >= SHIFT_MIN && shift <= SHIFT_MAX)) return `shift ${shift} is outside 31..62`;
  return null;
}

/** Null when the graph's int8 annotation is complete and within the format's bounds, else the first fault. */
export function quantFault(graph: Graph): string | null {
  const quant = graph.quant;
  if (!quant) return 'the graph has no int8 annotation';
  const inputFault = paramsFault(quant.values[GRAPH_INPUT]);
  if (inputFault) return `input: ${inputFault}`;
  for (const node of graph.nodes) {
    const at = `${node.name}: `;
    if (node.op === 'softmax') return `${at}softmax cannot run in int8`;
    const q = quant.values[node.output];
    const fault = paramsFault(q);
    if (fault) return at + fault;
    if (PASS_THROUGH.has(node.op)) {
      const p = quant.values[(node as { input: string }).input]!;
      if (p.scale !== q!.scale || p.zeroPoint !== q!.zeroPoint) return `${at}${node.op} must keep its input's scale and zero point`;
    } else if (node.op === 'conv' || node.op === 'linear') {
      const layer = quant.layers[node.name];
      const outChannels = node.weightShape[0];
      if (!layer) return `${at}has no int8 weights`;
      const count = (node.weightShape as readonly number[]).reduce((a, b) => a * b, 1);
      if (layer.weight.length !== count) return `${at}${layer.weight.length} int8 weights for a ${node.weightShape.join('x')} layer`;
      for (const [key, arr] of [['scales', layer.scales], ['bias', layer.bias], ['mult', layer.mult], ['shift', layer.shift]] as const) {
        if (arr.length !== outChannels) return `${at}${arr.length} ${key} for ${outChannels} output channels`;
      }
      if (layer.weight.some((w) => w === -128)) return `${at}an int8 weight is -128; symmetric weights stay within -127..127`;
      for (let o = 0; o < outChannels; o++) {
        const s = layer.scales[o]!;
        if (!(Number.isFinite(s) && s > 0)) return `${at}weight scale ${s} of output channel ${o} is not finite and positive`;
        const r = requantFault(layer.mult[o]!, layer.shift[o]!);
        if (r) return `${at}output channel ${o}: ${r}`;
      }
    } else if (node.op === 'add') {
      const r = quant.adds[node.name];
      if (!r || r.length !== 3 || r.some((pair) => pair.length !== 2)) return `${at}needs requant [[ma, sa], [mb, sb], [mo, so]]`;
      for (const [m, s] of r) {
        const fault = requantFault(m, s);
        if (fault) return at + fault;
      }
    }
  }
  return null;
}
