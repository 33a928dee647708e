import type { Command } from 'commander';
import { RunDir } from '../../train/run-dir.js';
import { readRunSummary } from '../../train/summary-file.js';
import { formatTable, humanCount } from '../output.js';
import { formatRunResult } from '../run-report.js';

export function registerInfo(program: Command, print: (text: string) => void): void {
  program
    .command('info')
    .description('summarise a finished run: accuracy, per-class accuracy, sparsity per layer')
    .argument('<run>', 'run directory')
    .option('--json', 'print summary.json')
    .action(async (run: string, opts: { json?: boolean }) => {
      const summary = await readRunSummary(new RunDir(run));
      if (opts.json) {
        print(JSON.stringify(summary, null, 2));
        return;
      }
      print(formatRunResult(summary, run));
      print('');
      print(formatTable(['class', 'accuracy'], Object.entries(summary.perClassAccuracy).map(([c, a]) => [c, `${(100 * a).toFixed(2)}%`])));
      print('');
      print(
        formatTable(
          ['layer', 'shape', 'params', 'non-zeros', 'sparsity', 'MACs'],
          summary.layers.map((l) => [l.name, l.shape.join('x'), humanCount(l.params), humanCount(l.nonZeros), `${(100 * l.sparsity).toFixed(1)}%`, humanCount(l.effectiveMacs)]),
        ),
      );
    });
}
