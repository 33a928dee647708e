import * as path from 'node:path';
import type { Command } from 'commander';
import { pipelineSchema } from '../../distill/pipeline-recipe.js';
import { validateRecipe } from '../../train/recipe.js';
import { explainInterrupt, pipelineInterruptNote } from '../interrupt.js';
import { pipelineProgress } from '../progress.js';
import { warnAboveCores } from '../threads-warning.js';
import { positiveInt } from '../parse.js';

export function registerDemo(program: Command, print: (text: string) => void): void {
  program
    .command('demo')
    .description('the main job end to end on built-in synthetic SAR-like chips: teacher, KD student, DST student at UHP 2:4, comparison table')
    .option('--out <dir>', 'folder for the demo runs', 'runs/demo')
    .option('--epochs <n>', 'epochs of the teacher and of each student stage', positiveInt('--epochs'), 4)
    .option('--threads <n>', 'LibTorch intra-op threads', positiveInt('--threads'), 2)
    .option('--force', 'retrain every stage even if an earlier demo finished it')
    .action(async (opts: { out: string; epochs: number; threads: number; force?: boolean }) => {
      warnAboveCores(opts.threads, '--threads');
      const recipe = validateRecipe(
        pipelineSchema,
        {
          name: 'demo',
          // 24x24 chips: 0.56x the multiply-adds of the default 32x32, the same 5000 training chips and steps.
          data: 'synthetic:size=24',
          threads: opts.threads,
          batchSize: 64,
          teacher: { model: 'resnet32', epochs: opts.epochs, optimizer: { lr: 0.05 } },
          student: {
            model: 'resnet20',
            epochs: opts.epochs,
            optimizer: { lr: 0.05 },
            kd: { temperature: 4, alpha: 0.9 },
            dst: { beta: 0.5 },
            prune: { epochs: Math.max(2, Math.ceil(opts.epochs * 0.75)), gradualEpochs: 1, updateEvery: 16, optimizer: { lr: 0.02 } },
          },
          methods: ['kd', 'dst'],
        },
        'demo',
      );
      const { runPipeline } = await import('../../distill/pipeline.js');
      const stopExplaining = explainInterrupt(() => pipelineInterruptNote(opts.out));
      const { markdown } = await runPipeline(recipe, opts.out, { force: opts.force, ...pipelineProgress() }).finally(stopExplaining);
      print(markdown);
      print(`\nruns in ${path.resolve(opts.out)}/ (teacher, kd, dst); comparison in ${path.join(opts.out, 'comparison.md')}`);
    });
}
