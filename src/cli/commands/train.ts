import type { Command } from 'commander';
import { trainRecipeSchema, validateRecipe } from '../../train/recipe.js';
import { ConfigError } from '../../errors.js';
import { addTrainingFlags, recipeFromFlags, type FromRecord } from '../recipe-flags.js';
import { runStageCommand } from '../run-stage-command.js';
import { addDistributedFlags } from '../distributed-flags.js';

/** A train run's recipe.yaml is its recipe; a distill run's records its method too, and only dst distill reads that. */
const trainRecipeFromRecord: FromRecord = (recorded, out) => {
  if ('resolved' in recorded) throw new ConfigError('--resume', `${out} is a run of dst distill; resume it with dst distill --out ${out} --resume`);
  return recorded;
};

export function registerTrain(program: Command, print: (text: string) => void): void {
  addDistributedFlags(addTrainingFlags(program.command('train').description('train a model from scratch with cross-entropy (a teacher, or a baseline)'))).action(
    async (opts: Record<string, unknown>) => {
      const { raw, source } = await recipeFromFlags(opts, [], trainRecipeFromRecord);
      const recipe = validateRecipe(trainRecipeSchema, raw, source);
      const { trainRun } = await import('../../train/run.js');
      await runStageCommand(opts, recipe.threads, (out, control) => trainRun(recipe, out, control), print);
    },
  );
}
