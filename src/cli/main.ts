import { Command, CommanderError } from 'commander';
import { DstError, fromSystemError } from '../errors.js';
import { dstVersion } from '../version.js';
import { registerDoctor } from './commands/doctor.js';
import { registerModels } from './commands/models.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerInfo } from './commands/info.js';
import { registerDemo } from './commands/demo.js';
import { registerDistill } from './commands/distill.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerExport } from './commands/export.js';
import { registerBench } from './commands/bench.js';
import { registerPlot } from './commands/plot.js';
import { registerImport } from './commands/import.js';

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

export function buildProgram(): Command {
  const program = new Command('dst')
    .description('Distillation Sparsity Training: distil, half-prune (UHP) and deploy CNNs for embedded targets')
    .version(dstVersion)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDoctor(program, print);
  registerModels(program, print);
  registerTrain(program, print);
  registerEval(program, print);
  registerInfo(program, print);
  registerDistill(program, print);
  registerPipeline(program, print);
  registerDemo(program, print);
  registerExport(program, print);
  registerBench(program, print);
  registerPlot(program, print);
  registerImport(program, print);
  return program;
}

/** Runs the CLI and returns the exit code; every user error is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  // What the command writes: the path a system error without one (a full disk) is about.
  let output: string | undefined;
  program.hook('preAction', (_, command) => {
    const { out } = command.opts<{ out?: unknown }>();
    if (typeof out === 'string') output = out;
  });
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const userError = err instanceof DstError ? err : fromSystemError(err, output);
    if (userError !== undefined) {
      process.stderr.write(`dst: error: ${userError.message}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`dst: internal error: ${e.message}\n`);
    if (process.env.DST_DEBUG) process.stderr.write(`${e.stack}\n`);
    else process.stderr.write('(set DST_DEBUG=1 for the stack trace)\n');
    return 2;
  }
}
