// One rank of the data-parallel training tests in distributed.test.ts (or the
// single process they compare with, when WORLD_SIZE is 1). It trains ResNet-20
// through runStage on synthetic data and prints one JSON line: the global loss
// of every step and a checksum of the model's parameters and buffers after
// every step. argv: out dir, epochs, syncBn (0/1), learning rate. A failure goes to stderr
// as the error's message, exit code 3.
import { createHash } from 'node:crypto';
import { openData } from '../../src/data/index.js';
import { createModel } from '../../src/models/registry.js';
import type { Module } from '../../src/nn/module.js';
import { initProcessGroup, manualSeed } from '../../src/torch/index.js';
import { trainRecipeSchema, validateRecipe } from '../../src/train/recipe.js';
import { RunDir } from '../../src/train/run-dir.js';
import { runStage } from '../../src/train/run.js';
import type { TrainEvent } from '../../src/train/trainer.js';

export const DATA = 'synthetic:size=16,trainPerClass=40,testPerClass=4';

function checksum(model: Module): string {
  const hash = createHash('sha256');
  for (const [name, t] of model.stateDict()) {
    hash.update(name);
    const data = t.data();
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex').slice(0, 16);
}

const [out, epochs, syncBn, lr] = process.argv.slice(2);
try {
  const group = process.env.WORLD_SIZE === '1' ? undefined : initProcessGroup({ timeoutMs: 20_000 });
  const recipe = validateRecipe(
    trainRecipeSchema,
    { model: 'resnet20', data: DATA, epochs: Number(epochs), batchSize: 16, threads: 1, workers: 0, seed: 3, optimizer: { lr: Number(lr) }, syncBn: syncBn === '1' },
    'test',
  );
  const data = await openData(DATA, { cacheDir: false });
  manualSeed(recipe.seed);
  // Rank 1 starts from other weights: the broadcast from rank 0 must replace them.
  if ((group?.rank ?? 0) !== 0) manualSeed(recipe.seed + 1);
  const model = createModel('resnet20', { numClasses: data.train.classes.length, inChannels: data.info.channels });
  const losses: number[] = [];
  const sums: string[] = [];
  let previous = { count: 0, loss: 0 };
  const onEvent = (e: TrainEvent): void => {
    if (e.kind !== 'step') return;
    // The event carries the epoch's running mean; the step's own loss is the difference of the running sums.
    const count = e.step;
    if (count === 1) previous = { count: 0, loss: 0 };
    losses.push(e.loss * count - previous.loss * previous.count);
    previous = { count, loss: e.loss };
  };
  await runStage({
    recipe,
    runDir: new RunDir(out!),
    data,
    model,
    resume: false,
    control: { group, onEvent },
    hooks: { afterStep: () => void sums.push(checksum(model)) },
  });
  group?.destroy();
  console.log(JSON.stringify({ rank: group?.rank ?? 0, losses, sums }));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(3);
}
