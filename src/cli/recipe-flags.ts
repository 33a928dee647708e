import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { readRecipeFile, setPath } from '../train/recipe.js';
import { RunDir } from '../train/run-dir.js';
import { nonNegativeNumber, positiveInt } from './parse.js';

/** Flags shared by `dst train` and `dst distill`; each maps to a recipe key. */
const flagKeys: [flag: string, key: string][] = [
  ['model', 'model'],
  ['data', 'data'],
  ['epochs', 'epochs'],
  ['batchSize', 'batchSize'],
  ['lr', 'optimizer.lr'],
  ['momentum', 'optimizer.momentum'],
  ['wd', 'optimizer.weightDecay'],
  ['schedule', 'schedule.kind'],
  ['warmup', 'schedule.warmupEpochs'],
  ['labelSmoothing', 'labelSmoothing'],
  ['recalibrateBn', 'recalibrateBn'],
  ['syncBn', 'syncBn'],
  ['seed', 'seed'],
  ['threads', 'threads'],
  ['workers', 'workers'],
  ['name', 'name'],
];

export function addTrainingFlags(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'recipe file (YAML or JSON); flags override its keys')
    .option('--model <name>', 'model from `dst models`')
    .option('--data <spec>', 'data spec, e.g. synthetic, mstar:<dir>, cifar10:<path>, folder:<dir>, opensarship:<dir>')
    .option('--epochs <n>', 'training epochs', positiveInt('--epochs'))
    .option('--batch-size <n>', 'training batch size', positiveInt('--batch-size'))
    .option('--lr <rate>', 'base learning rate', nonNegativeNumber('--lr'))
    .option('--momentum <m>', 'SGD momentum', nonNegativeNumber('--momentum'))
    .option('--wd <decay>', 'weight decay', nonNegativeNumber('--wd'))
    .option('--schedule <kind>', 'learning-rate schedule: cosine, step or constant')
    .option('--warmup <epochs>', 'linear warm-up epochs', nonNegativeNumber('--warmup'))
    .option('--label-smoothing <e>', 'label smoothing of the cross-entropy', nonNegativeNumber('--label-smoothing'))
    .option('--recalibrate-bn <batches>', 're-average BatchNorm statistics over this many training batches before the final evaluation (0: off)', nonNegativeNumber('--recalibrate-bn'))
    .option('--sync-bn', 'data-parallel: BatchNorm statistics over the global batch (all ranks), not each rank\'s part')
    .option('--seed <n>', 'seed of initialisation, shuffling and augmentation', nonNegativeNumber('--seed'))
    .option('--threads <n>', 'LibTorch intra-op threads', positiveInt('--threads'))
    .option('--workers <n>', 'data worker threads (0: none)', nonNegativeNumber('--workers'))
    .option('--name <name>', 'run name recorded in summary.json')
    .requiredOption('--out <dir>', 'run directory to write, e.g. runs/mstar-aconvnet')
    .option('--resume', 'continue the run in --out from its last checkpoint, with the settings it was started with (read from its recipe.yaml unless --config is given)')
    .option('--allow-changes', 'with --resume: continue with changed settings, recorded in the run\'s changes.jsonl')
    .option('--force', 'overwrite a finished or unfinished run in --out');
}

export type FlagKeys = readonly (readonly [flag: string, key: string])[];

/** How a command reads a run's recipe.yaml back as the recipe that started it. */
export type FromRecord = (recorded: Record<string, unknown>, out: string) => Record<string, unknown>;

/**
 * The recipe as plain data: the file's keys (if any), or with `--resume` and
 * no `--config` the ones the run in `--out` recorded, with the flags (shared
 * ones and `extra`) written over them.
 */
export async function recipeFromFlags(opts: Record<string, unknown>, extra: FlagKeys = [], fromRecord: FromRecord = (recorded) => recorded): Promise<{ raw: Record<string, unknown>; source: string }> {
  const { raw, source } = await baseRecipe(opts, fromRecord);
  for (const [flag, key] of [...flagKeys, ...extra]) {
    if (opts[flag] !== undefined) setPath(raw, key, opts[flag]);
  }
  return { raw, source };
}

async function baseRecipe(opts: Record<string, unknown>, fromRecord: FromRecord): Promise<{ raw: Record<string, unknown>; source: string }> {
  if (typeof opts.config === 'string') return { raw: await readRecipeFile(opts.config), source: opts.config };
  if (!opts.resume) return { raw: {}, source: '' };
  const out = opts.out as string;
  const runDir = new RunDir(out);
  if (!existsSync(runDir.recipe)) throw new ConfigError('--resume', `${out} holds no recipe.yaml to resume from; give the --config or flags the run was started with`);
  return { raw: fromRecord(await runDir.readRecipe(), out), source: runDir.recipe };
}
