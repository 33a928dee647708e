import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ComparisonRow } from '../distill/pipeline.js';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { PALETTE } from './palette.js';
import { extent } from './scale.js';
import { scatterChart, type ScatterPanel } from './scatter-chart.js';
import { siLabels } from './ticks.js';

export const COMPARISON_FILE = 'comparison.svg';

/** The fields the chart reads; comparison.json rows carry more. */
export type ComparedRun = Pick<ComparisonRow, 'method' | 'top1' | 'effectiveMacs' | 'nonZeros'>;

const NUMERIC = ['top1', 'effectiveMacs', 'nonZeros'] as const;

// Each method keeps its colour in every pipeline's chart; the teacher is drawn in black as the reference.
const METHOD_COLORS: Record<string, string> = {
  teacher: '#000000',
  scratch: PALETTE[5],
  kd: PALETTE[0],
  prune: PALETTE[4],
  'unstructured-kd': PALETTE[3],
  dst: PALETTE[1],
};

/** Reads comparison.json, naming the file and row of anything the chart cannot use. */
export async function readComparison(file: string): Promise<ComparedRun[]> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new FormatError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'not valid JSON');
  }
  if (!Array.isArray(value) || !value.length) throw new FormatError(file, 'expected a non-empty array of comparison rows');
  return value.map((row: unknown, i) => {
    const r = row as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || typeof r.method !== 'string') throw new FormatError(file, `row ${i + 1}: expected an object with a "method"`);
    const bad = NUMERIC.find((k) => typeof r[k] !== 'number');
    if (bad) throw new FormatError(file, `row ${i + 1} (${r.method}): "${bad}" is not a number`);
    return r as unknown as ComparedRun;
  });
}

// Spanning more than this ratio, a linear axis would crush the small students against the origin.
const LOG_RATIO = 5;

function panel(rows: readonly ComparedRun[], title: string, xLabel: string, key: 'effectiveMacs' | 'nonZeros'): ScatterPanel {
  const range = extent(
    rows.map((r) => r[key]),
    true,
  );
  return {
    title,
    xLabel,
    xFormat: siLabels,
    logX: range !== undefined && range[1] / range[0] >= LOG_RATIO,
    points: rows.map((r) => ({ label: `${r.method} ${(100 * r.top1).toFixed(1)}%`, x: r[key], y: 100 * r.top1, color: METHOD_COLORS[r.method] ?? PALETTE[6] })),
  };
}

/** Top-1 of every method against the compute (effective MACs) and the storage (non-zero weights) it needs. */
export function comparisonSvg(rows: readonly ComparedRun[], title: string): string {
  return scatterChart({
    title,
    subtitle: 'test top-1 against cost; up and to the left is better',
    yLabel: 'test top-1 %',
    panels: [panel(rows, 'Top-1 vs compute', 'effective MACs per image', 'effectiveMacs'), panel(rows, 'Top-1 vs model size', 'non-zero weights', 'nonZeros')],
  });
}

/** Writes the chart beside comparison.md (or to `out`) and returns the path. */
export async function writeComparisonPlot(pipelineRoot: string, rows: readonly ComparedRun[], title: string, out = path.join(pipelineRoot, COMPARISON_FILE)): Promise<string> {
  await writeFileAtomic(out, comparisonSvg(rows, title));
  return out;
}
