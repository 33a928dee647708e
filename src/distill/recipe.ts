import { z } from 'zod';
import { parsePattern } from '../sparsity/pattern.js';
import { optimizerSchema, overridesOf, scheduleSchema, trainRecipeSchema } from '../train/recipe.js';

export const METHODS = ['scratch', 'kd', 'prune', 'unstructured-kd', 'dst'] as const;
export type Method = (typeof METHODS)[number];

const patternString = z.string().superRefine((value, ctx) => {
  try {
    parsePattern(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^sparsity: /, '') });
  }
});

export const kdSchema = z
  .object({
    temperature: z.number().positive().default(4),
    alpha: z.number().min(0).max(1).default(0.9),
  })
  .strict();

export const pruneSchema = z
  .object({
    /** Epochs of the pruning stage (ramp + fixed-mask fine-tuning). */
    epochs: z.number().int().positive().default(15),
    /** Epochs of the ramp (N:M keep count M -> N, or the cubic schedule); 0 = one-shot. */
    gradualEpochs: z.number().min(0).default(4),
    updateEvery: z.number().int().positive().default(32),
    straightThrough: z.boolean().default(true),
    srSteDecay: z.number().min(0).default(0.0002),
    include: z.array(z.string()).optional(),
    exclude: z.array(z.string()).optional(),
    optimizer: overridesOf(optimizerSchema).default({}),
    schedule: overridesOf(scheduleSchema).default({}),
  })
  .strict();

/**
 * DST's own knobs: `beta` weighs the dense-student term; `start` is the dense
 * student DST prunes and learns from (DESIGN §5 step 2 trains it with KD; the
 * cross-entropy student is the alternative the MSTAR runs measured).
 */
const dstSchema = z
  .object({
    beta: z.number().min(0).default(0.5),
    start: z.enum(['kd', 'scratch']).default('kd'),
  })
  .strict();

/**
 * Quantization-aware fine-tuning after the student's last epoch: `epochs`
 * more epochs with the int8 export's rounding simulated (weights per output
 * channel, activations on ranges calibrated once at its start), masks fixed,
 * the method's loss, at rate `lr` (default: 1% of the stage's), constant or
 * decayed to zero over the quantized epochs by a cosine (`schedule`).
 */
const quantShape = {
  epochs: z.number().int().positive(),
  lr: z.number().positive().optional(),
  // Optional rather than defaulted: runs recorded before it existed resume unchanged.
  schedule: z.enum(['constant', 'cosine']).optional(),
};

// Unknown keys first: a misspelt `epochs` should be named as such, not reported as a missing `epochs`.
export const quantSchema = z
  .looseObject({})
  .superRefine((value, ctx) => {
    const unknown = Object.keys(value).find((key) => !(key in quantShape));
    if (unknown !== undefined) ctx.addIssue({ code: 'custom', message: `unknown key '${unknown}'; quant takes ${Object.keys(quantShape).join(', ')}` });
  })
  .pipe(z.object(quantShape).strict());

/**
 * A distillation recipe: a training recipe (the dense stage) plus the method,
 * the teacher, the loss weights, the pruning stage and, optionally,
 * quantization-aware epochs at the end. Pruning methods start
 * from a dense run: `init` names one, otherwise the dense stage runs first
 * (cross-entropy for `prune`, KD for `unstructured-kd`, `dst.start` for `dst`).
 */
export const distillRecipeSchema = trainRecipeSchema.extend({
  method: z.enum(METHODS),
  teacher: z.string().min(1).optional(),
  /** Architecture of a teacher given as a bare safetensors file (dst runs name their own). */
  teacherModel: z.string().min(1).optional(),
  init: z.string().min(1).optional(),
  sparsity: patternString.optional(),
  kd: kdSchema.default(kdSchema.parse({})),
  dst: dstSchema.default(dstSchema.parse({})),
  prune: pruneSchema.default(pruneSchema.parse({})),
  quant: quantSchema.optional(),
});

export type DistillRecipe = z.output<typeof distillRecipeSchema>;
export type QuantRecipe = z.output<typeof quantSchema>;

export function defaultSparsity(method: Method): string | undefined {
  switch (method) {
    case 'prune':
    case 'dst':
      return 'uhp:2:4';
    case 'unstructured-kd':
      return 'unstructured:0.5';
    default:
      return undefined;
  }
}

/** The dense method a pruning method starts from (its own dense stage, or the pipeline's run of it); none for dense methods. */
export function denseStart(recipe: DistillRecipe): 'scratch' | 'kd' | undefined {
  switch (recipe.method) {
    case 'prune':
      return 'scratch';
    case 'unstructured-kd':
      return 'kd';
    case 'dst':
      return recipe.dst.start;
    default:
      return undefined;
  }
}

export function needsTeacher(method: Method): boolean {
  return method === 'kd' || method === 'unstructured-kd' || method === 'dst';
}
