import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { positiveInt } from '../parse.js';
import { ProgressPrinter } from '../progress.js';

function numberList(option: string): (value: string) => number[] {
  return (value) => {
    const values = value.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    if (values.some((v) => !Number.isFinite(v))) throw new ConfigError(option, `expected comma-separated numbers such as 0.5,0.5,0.5, got '${value}'`);
    return values;
  };
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerImport(program: Command, print: (text: string) => void): void {
  program
    .command('import')
    .description('turn a PyTorch state dict (.pth from torch.save, or .safetensors) into a dst run that eval, distill --teacher and export read')
    .argument('<file>', 'state dict: a torch.save file (.pth/.pt) or a safetensors file')
    .requiredOption('--model <name>', 'dst architecture of the weights (see dst models)')
    .requiredOption('--out <dir>', 'run directory to create')
    .option('--key-map <FROM=TO>', "rename key parts, e.g. 'shortcut=downsample', '^module=' (prefix only); repeatable, applied in order", collect, [])
    .option('--data <spec>', 'data the model is for: its classes, image size and test pipeline; the test split is evaluated')
    .option('--classes <names>', 'comma-separated class names when no --data is given (default class0, class1, ...)')
    .option('--mean <m,m,m>', 'per-channel mean the weights were trained with, in [0, 1] pixel units (default: the data\'s, else none)', numberList('--mean'))
    .option('--std <s,s,s>', 'per-channel standard deviation, with --mean', numberList('--std'))
    .option('--batch-size <n>', 'evaluation batch size with --data', positiveInt('--batch-size'), 256)
    .option('--force', 'replace an existing --out folder')
    .action(async (file: string, opts: { model: string; out: string; keyMap: string[]; data?: string; classes?: string; mean?: number[]; std?: number[]; batchSize: number; force?: boolean }) => {
      const { importRun } = await import('../../import/run.js');
      const progress = new ProgressPrinter();
      const result = await importRun(file, opts.out, {
        model: opts.model,
        keyMap: opts.keyMap,
        data: opts.data,
        classes: opts.classes?.split(',').map((c) => c.trim()),
        mean: opts.mean,
        std: opts.std,
        force: opts.force,
        batchSize: opts.batchSize,
        onDataProgress: progress.data,
      });
      const { source, info, renamed } = result;
      const from = source.entry === null ? source.format : `${source.format}, entry '${source.entry}'`;
      print(`imported ${source.tensors.size} tensors from ${file} (${from}) as ${info.model}: ${info.classes.length} classes, input ${info.input.join('x')}`);
      if (renamed.length > 0) print(`renamed ${renamed.length} keys, e.g. ${renamed[0]![0]} -> ${renamed[0]![1]}`);
      if (result.top1 !== null) print(`test top-1 ${(100 * result.top1).toFixed(2)}% on ${opts.data}`);
      else print(`no --data: the model takes ${info.input.join('x')} images scaled to [0, 1]${opts.mean ? ' and normalised by --mean/--std' : ''}; give dst eval a --data spec`);
      print(`run in ${result.runDir.root}/ (recipe.yaml, model.safetensors, summary.json)`);
    });
}
