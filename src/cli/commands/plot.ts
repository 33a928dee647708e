import type { Command } from 'commander';
import { plotDirectory } from '../../plot/plot-dir.js';

export function registerPlot(program: Command, print: (text: string) => void): void {
  program
    .command('plot')
    .description('draw a run\'s training curves (curves.svg) or a pipeline\'s comparison (comparison.svg) as SVG')
    .argument('<dir>', 'run directory (metrics.jsonl) or pipeline directory (comparison.json)')
    .option('--out <file>', 'where to write the SVG (default: curves.svg or comparison.svg in <dir>)')
    .action(async (dir: string, opts: { out?: string }) => {
      print(await plotDirectory(dir, opts.out));
    });
}
