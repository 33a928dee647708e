import { describe, expect, it } from 'vitest';
import { distillRecipeFromRecord } from '../../src/distill/recorded-recipe.js';
import { distillRecipeSchema } from '../../src/distill/recipe.js';
import { validateRecipe } from '../../src/train/recipe.js';

const train = { name: 'dst', model: 'resnet20', data: 'synthetic', epochs: 3, transforms: { test: [{ op: 'toFloat' }] } };
const settings = { kd: { temperature: 4, alpha: 0.9 }, dst: { beta: 0.5, start: 'kd' }, prune: { epochs: 3, gradualEpochs: 1 }, quant: { epochs: 2 } };

describe('a distill run\'s recipe.yaml read back as its recipe', () => {
  it('gives a pruning run its method, teacher, pattern, settings and the other run it started from', () => {
    const recorded = { ...train, resolved: { method: 'dst', teacher: 'runs/t/model.safetensors', pattern: 'uhp:2:4', denseRun: 'runs/kd' }, settings };
    const recipe = distillRecipeFromRecord(recorded, 'runs/dst');
    expect(recipe).toEqual({ ...train, ...settings, method: 'dst', teacher: 'runs/t/model.safetensors', sparsity: 'uhp:2:4', init: 'runs/kd' });
    expect(validateRecipe(distillRecipeSchema, recipe, 'r.yaml').quant).toEqual({ epochs: 2 });
  });

  it('refuses a train run, naming the command that resumes it', () => {
    expect(() => distillRecipeFromRecord(train, 'runs/t')).toThrow(/^--resume: runs\/t is a run of dst train; resume it with dst train --out runs\/t --resume$/);
  });

  it('leaves out init when the dense run is the run\'s own, and the pattern of a dense method', () => {
    const pruned = distillRecipeFromRecord({ ...train, resolved: { method: 'prune', teacher: null, pattern: 'uhp:2:4', denseRun: 'runs/p/dense' } }, 'runs/p');
    expect(pruned).toEqual({ ...train, method: 'prune', sparsity: 'uhp:2:4' });
    const kd = distillRecipeFromRecord({ ...train, resolved: { method: 'kd', teacher: 't.safetensors', pattern: 'dense' }, settings: { kd: settings.kd } }, 'runs/kd');
    expect(kd).toEqual({ ...train, kd: settings.kd, method: 'kd', teacher: 't.safetensors' });
  });
});
