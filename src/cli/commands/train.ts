import type { Command } from 'commander';
import { trainRecipeSchema, validateRecipe } from '../../train/recipe.js';
import { explainInterrupt, trainingInterruptNote } from '../interrupt.js';
import { ProgressPrinter } from '../progress.js';
import { warnAboveCores } from '../threads-warning.js';
import { addTrainingFlags, recipeFromFlags } from '../recipe-flags.js';
import { formatRunResult } from '../run-report.js';

export function registerTrain(program: Command, print: (text: string) => void): void {
  addTrainingFlags(program.command('train').description('train a model from scratch with cross-entropy (a teacher, or a baseline)')).action(
    async (opts: Record<string, unknown>) => {
      const { raw, source } = await recipeFromFlags(opts);
      const recipe = validateRecipe(trainRecipeSchema, raw, source);
      warnAboveCores(recipe.threads, '--threads');
      const { trainRun } = await import('../../train/run.js');
      const progress = new ProgressPrinter();
      const stopExplaining = explainInterrupt(() => trainingInterruptNote(opts.out as string));
      try {
        const { summary, runDir } = await trainRun(recipe, opts.out as string, {
          resume: Boolean(opts.resume),
          force: Boolean(opts.force),
          allowChanges: Boolean(opts.allowChanges),
          onEvent: progress.train,
          onDataProgress: progress.data,
        });
        print(formatRunResult(summary, runDir.root));
      } finally {
        stopExplaining();
      }
    },
  );
}
