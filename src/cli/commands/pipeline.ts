import * as path from 'node:path';
import type { Command } from 'commander';
import { pipelineSchema } from '../../distill/pipeline-recipe.js';
import { readRecipeFile, validateRecipe } from '../../train/recipe.js';
import { positiveInt, seedList } from '../parse.js';
import { explainInterrupt, pipelineInterruptNote } from '../interrupt.js';
import { pipelineProgress } from '../progress.js';
import { addDistributedFlags, joinFromEnvironment, wantsLaunch, type LaunchFlags } from '../distributed-flags.js';
import { launch } from '../launcher.js';

export function registerPipeline(program: Command, print: (text: string) => void): void {
  const command = program
    .command('pipeline')
    .description('teacher, then every student method of the recipe on one dataset; stages resume and finished ones are skipped; ends with a comparison table')
    .argument('<recipe>', 'pipeline recipe (YAML or JSON) with data, teacher, student and methods')
    .option('--out <dir>', 'folder of the stage runs (default: runs/<recipe name>)')
    .option('--force', 'retrain every stage even if finished')
    .option('--parallel <n>', "stages trained at the same time once their inputs are ready, each in its own process with the recipe's threads / n (default: the recipe's parallel, else 1)", positiveInt('--parallel'))
    .option('--seeds <list>', "train the students once per seed, e.g. 0,1,2, under <out>/seed-<s>, and compare each method's mean ± sd (default: the recipe's seeds, else one run with its seed)", seedList('--seeds'))
    .option('--json', 'print the comparison as JSON');
  addDistributedFlags(command).action(async (file: string, opts: { out?: string; force?: boolean; parallel?: number; seeds?: number[]; json?: boolean } & LaunchFlags) => {
    const raw = await readRecipeFile(file);
    const recipe = validateRecipe(pipelineSchema, opts.seeds === undefined ? raw : { ...raw, seeds: opts.seeds }, file);
    const out = opts.out ?? path.join('runs', recipe.name ?? path.basename(file).replace(/\.(ya?ml|json)$/, ''));
    if (wantsLaunch(opts)) {
      process.exitCode = await launch(opts, process.argv.slice(2));
      return;
    }
    const group = await joinFromEnvironment(opts);
    const root = (group?.rank ?? 0) === 0;
    const { runPipeline } = await import('../../distill/pipeline.js');
    const stopExplaining = explainInterrupt(() => (root ? pipelineInterruptNote(out) : `rank ${group!.rank} stopped`));
    const progress = root ? pipelineProgress() : {};
    const { rows, markdown } = await runPipeline(recipe, out, { force: opts.force, parallel: opts.parallel, group, ...progress }).finally(() => {
      stopExplaining();
      group?.destroy();
    });
    if (!root) return;
    print(opts.json ? JSON.stringify(rows, null, 2) : markdown);
    if (!opts.json) print(`\ncomparison written to ${path.join(out, 'comparison.md')}, comparison.json and comparison.svg`);
  });
}
