/** The pipeline recipe's schema, apart from the runner so that validating a recipe does not load LibTorch. */
import { z } from 'zod';
import { trainRecipeSchema } from '../train/recipe.js';
import { METHODS } from './recipe.js';

/** Keys shared by the teacher and every student unless their own section sets them. */
export const SHARED = ['data', 'dataOptions', 'seed', 'threads', 'workers', 'transforms', 'batchSize', 'evalBatchSize', 'recalibrateBn'] as const;

const { shape } = trainRecipeSchema;

// The shared keys take the train recipe's types without its defaults, so a key the pipeline leaves out stays the teacher's or student's own.
export const pipelineSchema = z
  .object({
    name: z.string().min(1).optional(),
    data: shape.data,
    dataOptions: shape.dataOptions.unwrap().optional(),
    seed: shape.seed.unwrap().optional(),
    threads: shape.threads.unwrap().optional(),
    workers: shape.workers.unwrap().optional(),
    batchSize: shape.batchSize.unwrap().optional(),
    evalBatchSize: shape.evalBatchSize.unwrap().optional(),
    recalibrateBn: shape.recalibrateBn.unwrap().optional(),
    transforms: shape.transforms.unwrap().optional(),
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
