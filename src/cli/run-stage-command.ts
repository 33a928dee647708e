/** What `dst train` and `dst distill` do around their run: threads warning, progress, the Ctrl-C note and the result line. */
import type { RunControl } from '../train/run.js';
import type { RunDir } from '../train/run-dir.js';
import type { RunSummary } from '../train/summary.js';
import { joinFromEnvironment, wantsLaunch, type LaunchFlags } from './distributed-flags.js';
import { explainInterrupt, trainingInterruptNote } from './interrupt.js';
import { launch } from './launcher.js';
import { ProgressPrinter } from './progress.js';
import { formatRunResult } from './run-report.js';
import { warnAboveCores } from './threads-warning.js';

export async function runStageCommand(
  opts: Record<string, unknown>,
  threads: number,
  run: (outDir: string, control: RunControl) => Promise<{ summary: RunSummary; runDir: RunDir }>,
  print: (text: string) => void,
): Promise<void> {
  const flags = opts as LaunchFlags;
  if (wantsLaunch(flags)) {
    process.exitCode = await launch(flags, process.argv.slice(2));
    return;
  }
  const group = await joinFromEnvironment(flags);
  const root = (group?.rank ?? 0) === 0;
  // The ranks of this host share its cores; rank 0 speaks for all of them.
  const perHost = Number(process.env.LOCAL_WORLD_SIZE) || 1;
  if (root) warnAboveCores(threads * perHost, perHost > 1 ? `--threads ${threads} x --nproc ${perHost} =` : '--threads');
  const progress = root ? new ProgressPrinter() : undefined;
  const stopExplaining = explainInterrupt(() => (root ? trainingInterruptNote(opts.out as string) : `rank ${group!.rank} stopped`));
  try {
    const { summary, runDir } = await run(opts.out as string, {
      resume: Boolean(opts.resume),
      force: Boolean(opts.force),
      allowChanges: Boolean(opts.allowChanges),
      onEvent: progress?.train,
      onDataProgress: progress?.data,
      group,
    });
    if (root) print(formatRunResult(summary, runDir.root));
  } finally {
    stopExplaining();
    group?.destroy();
  }
}
