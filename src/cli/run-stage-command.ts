/** What `dst train` and `dst distill` do around their run: threads warning, progress, the Ctrl-C note and the result line. */
import type { RunControl } from '../train/run.js';
import type { RunDir } from '../train/run-dir.js';
import type { RunSummary } from '../train/summary.js';
import { explainInterrupt, trainingInterruptNote } from './interrupt.js';
import { ProgressPrinter } from './progress.js';
import { formatRunResult } from './run-report.js';
import { warnAboveCores } from './threads-warning.js';

export async function runStageCommand(
  opts: Record<string, unknown>,
  threads: number,
  run: (outDir: string, control: RunControl) => Promise<{ summary: RunSummary; runDir: RunDir }>,
  print: (text: string) => void,
): Promise<void> {
  warnAboveCores(threads, '--threads');
  const progress = new ProgressPrinter();
  const stopExplaining = explainInterrupt(() => trainingInterruptNote(opts.out as string));
  try {
    const { summary, runDir } = await run(opts.out as string, {
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
}
