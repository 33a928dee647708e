import { describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../src/distill/pipeline.js';
import { pipelineSchema } from '../../src/distill/pipeline-recipe.js';
import { quantLr, quantTrainRecipe } from '../../src/distill/quant-stage.js';
import { distillRecipeSchema } from '../../src/distill/recipe.js';
import { validateRecipe } from '../../src/train/recipe.js';
import { learningRateAt } from '../../src/train/schedule.js';

const base = { method: 'dst', teacher: 'runs/t', model: 'resnet20', data: 'synthetic' };
const distill = (quant: unknown) => validateRecipe(distillRecipeSchema, { ...base, quant }, 'r.yaml');
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
};

describe('recipe key quant', () => {
  it('is optional, takes epochs and a learning rate that defaults to 1% of the stage\'s', () => {
    expect(validateRecipe(distillRecipeSchema, base, 'r.yaml').quant).toBeUndefined();
    const recipe = distill({ epochs: 2 });
    expect(recipe.quant).toEqual({ epochs: 2 });
    expect(quantLr(recipe.quant!, { ...recipe, optimizer: { ...recipe.optimizer, lr: 0.1 } })).toBeCloseTo(0.001, 12);
    expect(quantLr(distill({ epochs: 1, lr: 0.02 }).quant!, recipe)).toBe(0.02);
  });

  it('keeps the rate constant, or decays it by a cosine from quant.lr to zero over the quantized epochs only', () => {
    const recipe = { ...distill({ epochs: 4, lr: 0.004 }), epochs: 3 };
    const rateAt = (quant: unknown, epoch: number) => {
      const trained = quantTrainRecipe(recipe, distill(quant).quant!);
      return learningRateAt(trained.optimizer.lr, trained.schedule, epoch, trained.epochs);
    };
    expect(quantTrainRecipe(recipe, recipe.quant!)).toMatchObject({ epochs: 7, recalibrateBn: 0 });
    for (const epoch of [3, 4.5, 6.9]) expect(rateAt({ epochs: 4, lr: 0.004 }, epoch)).toBe(0.004);
    expect(rateAt({ epochs: 4, lr: 0.004, schedule: 'cosine' }, 3)).toBeCloseTo(0.004, 12);
    expect(rateAt({ epochs: 4, lr: 0.004, schedule: 'cosine' }, 5)).toBeCloseTo(0.002, 12);
    expect(rateAt({ epochs: 4, lr: 0.004, schedule: 'cosine' }, 7)).toBeCloseTo(0, 12);
    expect(refusal(() => distill({ epochs: 1, schedule: 'step' }))).toMatch(/^r\.yaml: quant\.schedule: /);
  });

  it('refuses unknown keys and bad values in one line naming the key', () => {
    expect(refusal(() => distill({ epoch: 2 }))).toBe("r.yaml: quant: unknown key 'epoch'; quant takes epochs, lr, schedule");
    expect(refusal(() => distill({ epochs: 2, lr: 0.01, calibrate: true }))).toMatch(/^r\.yaml: quant: .*calibrate/);
    expect(refusal(() => distill({ epochs: 0 }))).toMatch(/^r\.yaml: quant\.epochs: /);
    expect(refusal(() => distill({ epochs: 1.5 }))).toMatch(/^r\.yaml: quant\.epochs: /);
    expect(refusal(() => distill({ epochs: 1, lr: -1 }))).toMatch(/^r\.yaml: quant\.lr: /);
    expect(refusal(() => distill({ lr: 0.01 }))).toMatch(/^r\.yaml: quant\.epochs: /);
    expect(refusal(() => distill(3))).toMatch(/^r\.yaml: quant: /);
    for (const message of [refusal(() => distill({ epoch: 2 })), refusal(() => distill({ epochs: 0 }))]) expect(message).not.toMatch(/\n/);
  });

  it('in a pipeline\'s student section, reaches every student and names the section in errors', () => {
    const recipe = (quant: unknown) =>
      validateRecipe(pipelineSchema, { data: 'synthetic', teacher: { model: 'resnet32' }, student: { model: 'resnet20', quant }, methods: ['kd', 'dst'] }, 'p.yaml');
    const { cohorts } = resolvePipeline(recipe({ epochs: 1 }), 'out');
    expect([...cohorts[0]!.students.values()].map((s) => s.quant)).toEqual([{ epochs: 1 }, { epochs: 1 }]);
    expect(refusal(() => resolvePipeline(recipe({ epochs: 1, bits: 8 }), 'out'))).toMatch(/^student\.quant: .*bits/);
  });
});
