import type { Command } from 'commander';
import { openData } from '../../data/open.js';
import { evaluate } from '../../train/evaluate.js';
import { loadModelFile } from '../../train/model-file.js';
import { RunDir } from '../../train/run-dir.js';
import { ConfigError } from '../../errors.js';
import { setNumThreads } from '../../torch/threads.js';
import { formatTable } from '../output.js';
import { positiveInt } from '../parse.js';
import { ProgressPrinter } from '../progress.js';

export function registerEval(program: Command, print: (text: string) => void): void {
  program
    .command('eval')
    .description("evaluate a run's model on the test split of a data spec (the run's own data by default)")
    .requiredOption('--run <dir>', 'run directory holding model.safetensors')
    .option('--data <spec>', 'data spec; default: the one the run trained on')
    .option('--batch-size <n>', 'evaluation batch size', positiveInt('--batch-size'), 256)
    .option('--threads <n>', 'LibTorch intra-op threads', positiveInt('--threads'), 2)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { run: string; data?: string; batchSize: number; threads: number; json?: boolean }) => {
      const runDir = new RunDir(opts.run);
      const recipe = await runDir.readRecipe();
      const spec = opts.data ?? (recipe.data as string);
      setNumThreads(opts.threads);
      const { model, info } = await loadModelFile(runDir.model);
      try {
        const progress = new ProgressPrinter();
        const data = await openData(spec, { ...((recipe.dataOptions as object) ?? {}), onProgress: progress.data });
        if (data.test.classes.length !== info.classes.length) {
          throw new ConfigError('--data', `${spec} has ${data.test.classes.length} classes, the model was trained on ${info.classes.length}`);
        }
        const result = await evaluate(model, data.test, info.classes.length, { batchSize: opts.batchSize, transforms: info.transforms, stats: info.stats });
        if (opts.json) {
          print(JSON.stringify({ run: opts.run, data: spec, ...result, classes: info.classes }, null, 2));
          return;
        }
        print(`${opts.run} on ${spec} (test split, ${result.count} images)`);
        print(`top-1 ${(100 * result.top1).toFixed(2)}%  top-5 ${(100 * result.top5).toFixed(2)}%  loss ${result.loss.toFixed(4)}`);
        print(formatTable(['class', 'accuracy'], info.classes.map((c, i) => [c, `${(100 * result.perClassAccuracy[i]!).toFixed(2)}%`])));
      } finally {
        model.dispose();
      }
    });
}
