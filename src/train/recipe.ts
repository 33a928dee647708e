import { readFile } from 'node:fs/promises';
import * as YAML from 'yaml';
import { z } from 'zod';
import { ConfigError, FormatError } from '../errors.js';
import { transformSchema } from '../data/transforms.js';

/**
 * A training recipe: everything a `dst train` flag can set, and more. Files
 * are YAML or JSON; every error names the offending key path.
 */
export const scheduleSchema = z
  .object({
    kind: z.enum(['cosine', 'step', 'constant']).default('cosine'),
    /** Epochs of linear warm-up from lr/10 (PyTorch-style linear ramp). */
    warmupEpochs: z.number().nonnegative().default(0),
    /** Epochs at which a step schedule multiplies the rate by gamma. */
    milestones: z.array(z.number().int().positive()).default([]),
    gamma: z.number().positive().max(1).default(0.1),
    /** Cosine floor as a fraction of the base rate. */
    minLrFraction: z.number().min(0).max(1).default(0),
  })
  .strict();

export const optimizerSchema = z
  .object({
    lr: z.number().positive().default(0.05),
    momentum: z.number().min(0).max(1).default(0.9),
    nesterov: z.boolean().default(true),
    weightDecay: z.number().nonnegative().default(5e-4),
  })
  .strict();

/**
 * `schema`'s keys, each optional and without its default: a section that
 * overrides only the keys it gives (a pruning stage's `optimizer`), where
 * `.partial()` would fill every default in and override the rest too.
 */
export function overridesOf<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const shape = Object.fromEntries(Object.entries(schema.shape).map(([key, field]) => [key, (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType)).optional()]));
  return z.object(shape as unknown as { [K in keyof Shape]: z.ZodOptional<Shape[K] extends z.ZodDefault<infer Inner> ? Inner : Shape[K]> }).strict();
}

export const trainRecipeSchema = z
  .object({
    name: z.string().optional(),
    model: z.string().min(1),
    data: z.string().min(1),
    /** Options of the data kind (see docs/data-formats.md), e.g. cacheDir, size, classes. */
    dataOptions: z.record(z.string(), z.unknown()).default({}),
    epochs: z.number().int().positive().default(30),
    batchSize: z.number().int().positive().default(64),
    evalBatchSize: z.number().int().positive().default(256),
    optimizer: optimizerSchema.default(optimizerSchema.parse({})),
    schedule: scheduleSchema.default(scheduleSchema.parse({})),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    /** Training batches over which BatchNorm statistics are re-averaged before the final evaluation (0: keep training's). */
    recalibrateBn: z.number().int().nonnegative().default(0),
    /**
     * Data-parallel only: BatchNorm statistics over the global batch (all ranks'
     * images) rather than each rank's part, as PyTorch's SyncBatchNorm. Costs
     * three small all-reduces per BatchNorm per step. Left unset, not false, so
     * runs recorded before it existed still resume unchanged.
     */
    syncBn: z.boolean().optional(),
    seed: z.number().int().nonnegative().default(0),
    /** LibTorch intra-op threads. */
    threads: z.number().int().positive().default(2),
    /** Worker threads that decode and augment batches ahead of training. */
    workers: z.number().int().nonnegative().default(1),
    transforms: z
      .object({ train: z.array(transformSchema).optional(), test: z.array(transformSchema).optional() })
      .strict()
      .default({}),
  })
  .strict();

export type TrainRecipe = z.output<typeof trainRecipeSchema>;
export type TrainRecipeInput = z.input<typeof trainRecipeSchema>;

function keyPath(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? issue.path.map(String).join('.') : '(recipe)';
}

/** Validates a parsed object; the first problem becomes one ConfigError naming its key path. */
export function validateRecipe<S extends z.ZodType>(schema: S, value: unknown, source: string, keyPrefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = source ? `${source}: ` : '';
    throw new ConfigError(`${where}${keyPrefix}${keyPath(issue)}`, issue.message);
  }
  return result.data;
}

/** Reads a YAML or JSON recipe file as plain data (validation is the caller's, per command). */
export async function readRecipeFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FormatError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such recipe file' : (err as Error).message);
  }
  let value: unknown;
  try {
    value = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new FormatError(file, `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FormatError(file, 'a recipe must be a mapping of keys to values');
  return value as Record<string, unknown>;
}

/** Sets `value` at a dotted path of a plain object, creating the objects on the way (CLI flags over recipe keys). */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}
