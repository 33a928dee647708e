import type { Command } from 'commander';
import { trainRecipeSchema, validateRecipe } from '../../train/recipe.js';
import { addTrainingFlags, recipeFromFlags } from '../recipe-flags.js';
import { runStageCommand } from '../run-stage-command.js';
import { addDistributedFlags } from '../distributed-flags.js';

export function registerTrain(program: Command, print: (text: string) => void): void {
  addDistributedFlags(addTrainingFlags(program.command('train').description('train a model from scratch with cross-entropy (a teacher, or a baseline)'))).action(
    async (opts: Record<string, unknown>) => {
      const { raw, source } = await recipeFromFlags(opts);
      const recipe = validateRecipe(trainRecipeSchema, raw, source);
      const { trainRun } = await import('../../train/run.js');
      await runStageCommand(opts, recipe.threads, (out, control) => trainRun(recipe, out, control), print);
    },
  );
}
