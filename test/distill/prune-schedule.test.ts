import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { distillRecipeSchema, pruneSchema } from '../../src/distill/recipe.js';
import { resolvePattern } from '../../src/distill/run.js';
import { createModel } from '../../src/models/registry.js';
import { parsePattern } from '../../src/sparsity/pattern.js';
import { installedMasks, PruningController } from '../../src/sparsity/training.js';
import { manualSeed } from '../../src/torch/index.js';
import { trainRecipeSchema, validateRecipe } from '../../src/train/recipe.js';
import { RunDir } from '../../src/train/run-dir.js';
import { runStage } from '../../src/train/run.js';

describe('the pruning schedule', () => {
  it('refuses a ramp that leaves no epoch with fixed masks, naming both options', () => {
    const recipe = (prune: object) => validateRecipe(distillRecipeSchema, { method: 'prune', model: 'resnet8x4', data: 'synthetic', prune }, '');
    expect(() => resolvePattern(recipe({ epochs: 1, gradualEpochs: 5 }))).toThrow(/^--gradual-epochs \(prune\.gradualEpochs\): a ramp of 5 epochs leaves no epoch with fixed masks in a pruning stage of 1 \(--prune-epochs, prune\.epochs\)/);
    expect(() => resolvePattern(recipe({ epochs: 3, gradualEpochs: 3 }))).toThrow(/leaves no epoch with fixed masks/);
    expect(resolvePattern(recipe({ epochs: 3, gradualEpochs: 2 }))?.kind).toBe('uhp');
    expect(resolvePattern(recipe({ epochs: 1, gradualEpochs: 0 }))?.kind).toBe('uhp');
  });

  it('overrides only the optimizer and schedule keys a pruning stage gives; the rest stay the student\'s', () => {
    const recipe = validateRecipe(
      distillRecipeSchema,
      { method: 'prune', model: 'resnet8x4', data: 'synthetic', optimizer: { lr: 0.1, nesterov: false }, schedule: { kind: 'step', milestones: [2] }, prune: { optimizer: { lr: 0.01 }, schedule: { gamma: 0.5 } } },
      '',
    );
    expect(recipe.prune.optimizer).toEqual({ lr: 0.01 });
    expect(recipe.prune.schedule).toEqual({ gamma: 0.5 });
    expect(() => validateRecipe(distillRecipeSchema, { method: 'prune', model: 'm', data: 'd', prune: { optimizer: { rate: 1 } } }, 'r.yaml')).toThrow(/^r\.yaml: prune\.optimizer: .*rate/);
  });

  it('never ends a pruning run whose final weights miss the pattern', async () => {
    const data = await openData('synthetic:size=16,trainPerClass=4,testPerClass=2', { cacheDir: false });
    const recipe = validateRecipe(trainRecipeSchema, { model: 'resnet8x4', data: 'synthetic', epochs: 1, batchSize: 20, threads: 1, workers: 0 }, '');
    manualSeed(0);
    const model = createModel('resnet8x4', { numClasses: 10, inChannels: 1 });
    const pattern = parsePattern('uhp:2:4');
    // A ramp five times longer than the stage stops half-way, at 3:4.
    const controller = new PruningController(model, pattern, pruneSchema.parse({ gradualEpochs: 5, updateEvery: 1 }), 2);
    controller.install();
    const runDir = new RunDir(mkdtempSync(path.join(tmpdir(), 'dst-prune-schedule-')));
    const stage = runStage({
      recipe,
      runDir,
      data,
      model,
      resume: false,
      control: {},
      hooks: { onStart: (step) => controller.start(step), afterStep: (info) => controller.afterStep(info.globalStep) },
      masks: () => installedMasks(model),
      pattern,
    });
    await expect(stage).rejects.toThrow(/^the final weights of .*conv.* do not hold uhp:2:4; no model was written/);
    expect(existsSync(runDir.model)).toBe(false);
    expect(existsSync(runDir.summary)).toBe(false);
    model.dispose();
  });
});
