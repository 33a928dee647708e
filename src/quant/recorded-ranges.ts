/**
 * The activation grids a quantization-aware training run trained with,
 * recorded in its run folder so that its int8 export uses exactly them
 * instead of calibrating anew.
 */
import { readFile } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import { GRAPH_INPUT, type Graph, type QuantParams } from '../export/ir.js';
import { writeFileAtomic } from '../fsutil.js';
import { quantFault } from './check.js';
import { WEIGHT_CODE_MAX } from './params.js';
import { checkQuantizable, quantizeWithValues } from './quantize.js';

/** The file's name in a run folder. */
export const RANGES_FILE = 'quant-ranges.json';

export interface RecordedRanges {
  format: 'dst-quant-ranges';
  version: 1;
  /** How the ranges were calibrated: method, image count, data spec. */
  calibration: { method: string; images: number; data: string };
  /** The largest weight code the weights were fake-quantized to (±). */
  weightCodeMax: number;
  /** Scale and zero point of every value of the exported graph: a value's range is [(-128 - z)·s, (127 - z)·s]. */
  values: Record<string, QuantParams>;
}

export async function writeRecordedRanges(file: string, ranges: RecordedRanges): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(ranges, null, 2)}\n`);
}

export async function readRecordedRanges(file: string): Promise<RecordedRanges> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const reason = err instanceof SyntaxError ? 'not valid JSON' : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read: ${(err as Error).message}`;
    throw new FormatError(file, reason);
  }
  const r = parsed as Partial<RecordedRanges> | null;
  if (r?.format !== 'dst-quant-ranges' || r.version !== 1) throw new FormatError(file, 'not a dst quantization ranges file (format dst-quant-ranges, version 1)');
  if (!Number.isInteger(r.weightCodeMax) || r.weightCodeMax! < 1 || r.weightCodeMax! > 127) throw new FormatError(file, `weightCodeMax ${String(r.weightCodeMax)} is not an integer in 1..127`);
  if (r.values === null || typeof r.values !== 'object' || r.calibration === undefined) throw new FormatError(file, 'lacks values or calibration');
  return r as RecordedRanges;
}

/**
 * The graph with the int8 annotation the recorded grids give: weights,
 * biases and rescalings derived from them exactly as quantizeGraph derives
 * them from calibrated ranges. Refuses, naming the file, grids recorded for
 * another graph.
 */
export function quantizeWithRecorded(graph: Graph, ranges: RecordedRanges, file: string): Graph {
  checkQuantizable(graph);
  if (ranges.weightCodeMax !== WEIGHT_CODE_MAX) throw new FormatError(file, `was trained with weight codes within ±${ranges.weightCodeMax}; the int8 export quantizes weights to ±${WEIGHT_CODE_MAX}`);
  const names = [GRAPH_INPUT, ...graph.nodes.map((n) => n.output)];
  const known = new Set(names);
  const missing = names.find((name) => ranges.values[name] === undefined);
  if (missing !== undefined) throw new FormatError(file, `has no scale and zero point for value '${missing}' of the model's graph (recorded for another model?)`);
  const extra = Object.keys(ranges.values).find((name) => !known.has(name));
  if (extra !== undefined) throw new FormatError(file, `names value '${extra}', which the model's graph does not have (recorded for another model?)`);
  const quantized = quantizeWithValues(graph, Object.fromEntries(names.map((name) => [name, { ...ranges.values[name]! }])));
  const fault = quantFault(quantized);
  if (fault !== null) throw new FormatError(file, fault);
  return quantized;
}
