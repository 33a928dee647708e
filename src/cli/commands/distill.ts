import type { Command } from 'commander';
import { distillRecipeSchema } from '../../distill/recipe.js';
import { distillRecipeFromRecord } from '../../distill/recorded-recipe.js';
import { validateRecipe } from '../../train/recipe.js';
import { addTrainingFlags, recipeFromFlags, type FlagKeys } from '../recipe-flags.js';
import { runStageCommand } from '../run-stage-command.js';
import { addDistributedFlags } from '../distributed-flags.js';
import { nonNegativeNumber, positiveInt } from '../parse.js';

const distillFlags: FlagKeys = [
  ['method', 'method'],
  ['teacher', 'teacher'],
  ['teacherModel', 'teacherModel'],
  ['student', 'model'],
  ['init', 'init'],
  ['sparsity', 'sparsity'],
  ['temperature', 'kd.temperature'],
  ['alpha', 'kd.alpha'],
  ['beta', 'dst.beta'],
  ['dstStart', 'dst.start'],
  ['pruneEpochs', 'prune.epochs'],
  ['gradualEpochs', 'prune.gradualEpochs'],
  ['quantEpochs', 'quant.epochs'],
  ['quantLr', 'quant.lr'],
  ['quantSchedule', 'quant.schedule'],
];

export function registerDistill(program: Command, print: (text: string) => void): void {
  addDistributedFlags(addTrainingFlags(
    program
      .command('distill')
      .description('train a student: scratch, kd, prune (prune + fine-tune), unstructured-kd, or dst (KD warm-up, gradual UHP, teacher-pruned-student distillation)')
      .option('--method <method>', 'scratch | kd | prune | unstructured-kd | dst')
      .option('--teacher <run>', 'teacher run directory (or a safetensors file with --teacher-model)')
      .option('--teacher-model <name>', 'architecture of a teacher given as a bare safetensors file')
      .option('--student <name>', 'student model (same as --model)')
      .option('--init <run>', 'finished dense run to prune from (skips the dense stage)')
      .option('--sparsity <pattern>', 'uhp:N:M[:B] | unstructured:S[:global] | channel:S (default: uhp:2:4, or unstructured:0.5 for unstructured-kd)')
      .option('--temperature <T>', 'KD temperature', nonNegativeNumber('--temperature'))
      .option('--alpha <a>', 'weight of the teacher term', nonNegativeNumber('--alpha'))
      .option('--beta <b>', 'DST: weight of the dense-student term (0 turns it off)', nonNegativeNumber('--beta'))
      .option('--dst-start <method>', 'DST: the dense student it prunes and learns from, kd (default) or scratch')
      .option('--prune-epochs <n>', 'epochs of the pruning stage', positiveInt('--prune-epochs'))
      .option('--gradual-epochs <n>', 'epochs of the sparsity ramp (0: one-shot)', nonNegativeNumber('--gradual-epochs'))
      .option('--quant-epochs <n>', 'quantization-aware epochs after the last one, on the model as int8 export rounds it (recipe quant.epochs)', positiveInt('--quant-epochs'))
      .option('--quant-lr <lr>', 'learning rate of the quantization-aware epochs (default: 1% of the stage\'s)', nonNegativeNumber('--quant-lr'))
      .option('--quant-schedule <kind>', 'learning-rate schedule of the quantization-aware epochs: constant (default) or cosine to zero'),
  )).action(async (opts: Record<string, unknown>) => {
    const { raw, source } = await recipeFromFlags(opts, distillFlags, distillRecipeFromRecord);
    const recipe = validateRecipe(distillRecipeSchema, raw, source);
    const { distillRun } = await import('../../distill/run.js');
    await runStageCommand(opts, recipe.threads, (out, control) => distillRun(recipe, out, control), print);
  });
}
