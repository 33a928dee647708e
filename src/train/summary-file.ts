import { z } from 'zod';
import { FormatError } from '../errors.js';
import type { RunDir } from './run-dir.js';
import type { RunSummary } from './summary.js';

// JSON writes NaN (a class without test images) as null.
const fraction = z.number().nullable();
const count = z.number().int().nonnegative();

/** The keys readers of summary.json rely on; others pass through untouched. */
const summarySchema = z.looseObject({
  name: z.string(),
  model: z.string(),
  data: z.looseObject({ spec: z.string(), kind: z.string(), classes: z.array(z.string()), trainSize: count, testSize: count }),
  epochs: count,
  top1: fraction,
  top5: fraction,
  perClassAccuracy: z.record(z.string(), fraction),
  params: count,
  nonZeros: count,
  sparsity: z.number(),
  denseMacs: z.number(),
  effectiveMacs: z.number(),
  uniform: z.boolean().nullable(),
  layers: z.array(z.looseObject({ name: z.string(), shape: z.array(count), params: count, nonZeros: count, sparsity: z.number(), effectiveMacs: z.number() })),
  seconds: z.number(),
});

/** A run's summary.json, checked: a damaged file is one error naming it and the first bad key. */
export async function readRunSummary(runDir: RunDir): Promise<RunSummary> {
  const parsed = summarySchema.safeParse(await runDir.readSummary<unknown>());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    throw new FormatError(runDir.summary, `${key}: ${issue.message}; the file is damaged: run the training again, or restore it`);
  }
  return parsed.data as RunSummary;
}
