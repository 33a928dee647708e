/** The pipeline recipe's schema, apart from the runner so that validating a recipe does not load LibTorch. */
import { z } from 'zod';
import { METHODS } from './recipe.js';

/** Keys shared by the teacher and every student unless their own section sets them. */
export const SHARED = ['data', 'dataOptions', 'seed', 'threads', 'workers', 'transforms', 'batchSize', 'evalBatchSize', 'recalibrateBn'] as const;

export const pipelineSchema = z
  .object({
    name: z.string().min(1).optional(),
    data: z.string().min(1),
    dataOptions: z.record(z.string(), z.unknown()).optional(),
    seed: z.number().int().nonnegative().optional(),
    threads: z.number().int().positive().optional(),
    workers: z.number().int().nonnegative().optional(),
    batchSize: z.number().int().positive().optional(),
    evalBatchSize: z.number().int().positive().optional(),
    recalibrateBn: z.number().int().nonnegative().optional(),
    transforms: z.unknown().optional(),
    teacher: z.record(z.string(), z.unknown()),
    student: z.record(z.string(), z.unknown()),
    methods: z.array(z.enum(METHODS)).min(1, 'must list at least one method'),
    /** Train the students once per seed (the teacher once, with `seed`) and report each method's mean and spread. */
    seeds: z
      .array(z.number().int().nonnegative())
      .min(1, 'must list at least one seed')
      .refine((seeds) => new Set(seeds).size === seeds.length, 'lists a seed twice')
      .optional(),
    /** Stages trained at the same time once their inputs are ready, each in its own process with threads / parallel LibTorch threads. */
    parallel: z.number().int().positive().optional(),
  })
  .strict();

export type PipelineRecipe = z.output<typeof pipelineSchema>;
