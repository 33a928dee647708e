/**
 * A distill run's recipe.yaml read back as the recipe that starts it: the
 * training keys as recorded, and the method's keys from what the run
 * recorded under `resolved` and `settings` (see run.ts's stages).
 */
import * as path from 'node:path';
import { ConfigError } from '../errors.js';

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * `recorded` is the recipe.yaml of the run in `out`. A pruning run records
 * its dense run: `init` when it is another run's, nothing when it is the
 * run's own `<out>/dense`, which the recipe finds by itself.
 */
export function distillRecipeFromRecord(recorded: Record<string, unknown>, out: string): Record<string, unknown> {
  const { resolved, settings, ...train } = recorded;
  if (resolved === undefined) throw new ConfigError('--resume', `${out} is a run of dst train; resume it with dst train --out ${out} --resume`);
  const { method, teacher, pattern, denseRun } = record(resolved);
  const recipe: Record<string, unknown> = { ...train, ...record(settings), method };
  if (typeof teacher === 'string') recipe.teacher = teacher;
  if (typeof pattern === 'string' && pattern !== 'dense') recipe.sparsity = pattern;
  if (typeof denseRun === 'string' && path.resolve(denseRun) !== path.resolve(out, 'dense')) recipe.init = denseRun;
  return recipe;
}
