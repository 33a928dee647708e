import type { Command } from 'commander';
import { RunDir } from '../../train/run-dir.js';
import { ConfigError } from '../../errors.js';
import { formatTable } from '../output.js';
import { positiveInt } from '../parse.js';
import { ProgressPrinter } from '../progress.js';
import { warnAboveCores } from '../threads-warning.js';

export function registerEval(program: Command, print: (text: string) => void): void {
  program
    .command('eval')
    .description("evaluate a run's model on the test split of a data spec (the run's own data by default)")
    .requiredOption('--run <dir>', 'run directory holding model.safetensors')
    .option('--data <spec>', 'data spec; default: the one the run trained on')
    .option('--batch-size <n>', 'evaluation batch size', positiveInt('--batch-size'), 256)
    .option('--threads <n>', 'LibTorch intra-op threads', positiveInt('--threads'), 2)
    .option('--uhp <file>', 'also run this exported .uhp (float or int8) through the C engine and compare its predictions with LibTorch, image by image')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { run: string; data?: string; batchSize: number; threads: number; uhp?: string; json?: boolean }) => {
      warnAboveCores(opts.threads, '--threads');
      const runDir = new RunDir(opts.run);
      const recipe = await runDir.readRecipe();
      const spec = opts.data ?? (recipe.data as string);
      const [{ openData }, { evaluate }, { evaluateUhp }, { loadModelFile }, { setNumThreads }, { checkLabels }] = await Promise.all([
        import('../../data/open.js'),
        import('../../train/evaluate.js'),
        import('../../train/engine-eval.js'),
        import('../../train/model-file.js'),
        import('../../torch/threads.js'),
        import('../../train/label-check.js'),
      ]);
      setNumThreads(opts.threads);
      const { model, info } = await loadModelFile(runDir.model);
      try {
        const progress = new ProgressPrinter();
        const data = await openData(spec, { ...((recipe.dataOptions as object) ?? {}), onProgress: progress.data });
        checkLabels(spec, [data.test]);
        if (data.test.classes.length !== info.classes.length) {
          throw new ConfigError('--data', `${spec} has ${data.test.classes.length} classes, the model was trained on ${info.classes.length}`);
        }
        const { predictions, ...result } = await evaluate(model, data.test, info.classes.length, { batchSize: opts.batchSize, transforms: info.transforms, stats: info.stats });
        const engine = opts.uhp
          ? await evaluateUhp(opts.uhp, data.test, info.classes.length, { transforms: info.transforms, stats: info.stats, batchSize: opts.batchSize, threads: opts.threads })
          : null;
        const engineReport = engine && {
          file: opts.uhp,
          isa: engine.isa,
          int8: engine.int8,
          top1: engine.top1,
          top5: engine.top5,
          samePredictions: engine.predictions.filter((p, i) => p === predictions[i]).length,
          count: engine.count,
        };
        if (opts.json) {
          print(JSON.stringify({ run: opts.run, data: spec, ...result, classes: info.classes, ...(engineReport ? { engine: engineReport } : {}) }, null, 2));
          return;
        }
        print(`${opts.run} on ${spec} (test split, ${result.count} images)`);
        print(`top-1 ${(100 * result.top1).toFixed(2)}%  top-5 ${(100 * result.top5).toFixed(2)}%  loss ${result.loss.toFixed(4)}`);
        print(formatTable(['class', 'accuracy'], info.classes.map((c, i) => [c, `${(100 * result.perClassAccuracy[i]!).toFixed(2)}%`])));
        if (engineReport) {
          print(
            `engine${engineReport.int8 ? ' int8' : ''} (${engineReport.isa}) on ${engineReport.file}: top-1 ${(100 * engineReport.top1).toFixed(2)}%  top-5 ${(100 * engineReport.top5).toFixed(2)}%  same prediction as LibTorch on ${engineReport.samePredictions}/${engineReport.count} images`,
          );
        }
      } finally {
        model.dispose();
      }
    });
}
