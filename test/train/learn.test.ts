import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData } from '../../src/data/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/index.js';
import { manualSeed } from '../../src/torch/index.js';
import { trainRecipeSchema, validateRecipe } from '../../src/train/recipe.js';
import { RunDir } from '../../src/train/run-dir.js';
import { train } from '../../src/train/trainer.js';

function smallCnn(): Sequential {
  const block = (i: number, o: number) => [new Conv2d(i, o, 3, { padding: 1, bias: false }), new BatchNorm2d(o), new ReLU()];
  return new Sequential(...block(1, 16), new MaxPool2d(2), ...block(16, 32), new MaxPool2d(2), ...block(32, 64), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(64, 10));
}

describe('the synthetic dataset', () => {
  it('is learnable: a small CNN trained by the trainer for a few epochs scores far above chance', async () => {
    const data = await openData('synthetic:size=24,trainPerClass=200,testPerClass=40', { cacheDir: false });
    const recipe = validateRecipe(
      trainRecipeSchema,
      { model: 'small-cnn', data: 'synthetic', epochs: 8, batchSize: 32, threads: 1, workers: 0, optimizer: { lr: 0.05 }, schedule: { kind: 'cosine' } },
      'test',
    );
    manualSeed(0);
    const model = smallCnn();
    const runDir = new RunDir(mkdtempSync(path.join(tmpdir(), 'dst-learn-')));
    const result = await train({ recipe, model, data, runDir, transforms: data.info.transforms, resume: false });
    model.dispose();
    // Chance is 10%; this reaches 80% on the reference machine.
    expect(result.final.top1).toBeGreaterThan(0.5);
    expect(result.history[7]!.trainLoss).toBeLessThan(result.history[0]!.trainLoss);
  }, 120_000);
});
