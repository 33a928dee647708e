import * as path from 'node:path';
import type { Command } from 'commander';
import { trainRecipeSchema, validateRecipe } from '../../train/recipe.js';
import { trainRun } from '../../train/run.js';
import { ProgressPrinter } from '../progress.js';
import { formatRunResult } from '../run-report.js';
import { positiveInt } from '../parse.js';

export function registerDemo(program: Command, print: (text: string) => void): void {
  program
    .command('demo')
    .description('run the main job end to end on the built-in synthetic SAR-like data: train, then evaluate')
    .option('--out <dir>', 'folder for the demo runs', 'runs/demo')
    .option('--epochs <n>', 'training epochs', positiveInt('--epochs'), 4)
    .option('--threads <n>', 'LibTorch intra-op threads', positiveInt('--threads'), 2)
    .action(async (opts: { out: string; epochs: number; threads: number }) => {
      const recipe = validateRecipe(
        trainRecipeSchema,
        { name: 'demo-resnet20', model: 'resnet20', data: 'synthetic', epochs: opts.epochs, batchSize: 64, threads: opts.threads, optimizer: { lr: 0.05 }, schedule: { kind: 'cosine' } },
        'demo',
      );
      const out = path.join(opts.out, 'resnet20');
      const progress = new ProgressPrinter();
      const { summary, runDir } = await trainRun(recipe, out, { force: true, onEvent: progress.train, onDataProgress: progress.data });
      print(formatRunResult(summary, runDir.root));
    });
}
