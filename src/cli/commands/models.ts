import type { Command } from 'commander';
import { formatTable, humanCount } from '../output.js';
import { positiveInt } from '../parse.js';

export function registerModels(program: Command, print: (text: string) => void): void {
  program
    .command('models')
    .description('list the model zoo with parameters and MACs at each model\'s input size')
    .option('--classes <n>', 'number of classes of the head', positiveInt('--classes'), 10)
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { classes: number; json?: boolean }) => {
      const { listModels } = await import('../../models/registry.js');
      const models = listModels({ numClasses: opts.classes });
      if (opts.json) {
        print(JSON.stringify(models, null, 2));
        return;
      }
      print(
        formatTable(
          ['model', 'input', 'params', 'MACs', 'description'],
          models.map((m) => [m.name, m.input.join('x'), humanCount(m.params), humanCount(m.macs), m.description]),
        ),
      );
    });
}
