import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import { RunDir } from '../train/run-dir.js';
import { readComparison, writeComparisonPlot } from './comparison-plot.js';
import { readMetrics, writeCurves } from './run-curves.js';

const COMPARISON_JSON = 'comparison.json';

/**
 * `dst plot`: a pipeline directory (it has comparison.json) gets
 * comparison.svg, a run directory (metrics.jsonl) gets curves.svg. Input is
 * read and checked in full before anything is written; returns the file written.
 */
export async function plotDirectory(dir: string, out?: string): Promise<string> {
  if (!existsSync(dir)) throw new FormatError(dir, 'no such directory');
  if (!statSync(dir).isDirectory()) throw new FormatError(dir, 'not a directory: give a run or pipeline directory');
  const title = path.basename(path.resolve(dir));
  const comparison = path.join(dir, COMPARISON_JSON);
  if (existsSync(comparison)) return writeComparisonPlot(dir, await readComparison(comparison), title, out);
  const runDir = new RunDir(dir);
  if (!existsSync(runDir.metrics)) throw new FormatError(dir, `neither a run directory (no metrics.jsonl) nor a pipeline directory (no ${COMPARISON_JSON})`);
  return writeCurves(dir, await readMetrics(runDir.metrics), title, out);
}
