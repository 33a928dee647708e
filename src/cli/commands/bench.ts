import type { Command } from 'commander';
import type { BenchOptions } from '../../bench/bench.js';
import type { LayerRow } from '../../bench/layers.js';
import { ConfigError } from '../../errors.js';
import type { Schedule } from '../../runtime/model.js';
import { cpuFacts } from '../cpu.js';
import { formatTable } from '../output.js';
import { positiveInt } from '../parse.js';

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

const SCHEDULES: readonly Schedule[] = ['pool', 'caller', 'auto'];

function scheduleOption(value: string): Schedule {
  const schedule = SCHEDULES.find((s) => s === value);
  if (schedule === undefined) throw new ConfigError('--schedule', `expected one of ${SCHEDULES.join(', ')}, got '${value}'`);
  return schedule;
}

export function registerBench(program: Command, print: (text: string) => void): void {
  program
    .command('bench')
    .description("time a run's model through LibTorch, onnxruntime and dst's engine (dense, unstructured CSR, UHP; float and int8), side by side in one process")
    .option('--run <dir>', 'run directory holding model.safetensors')
    .option('--model <file>', 'a .uhp model file instead of a run (LibTorch then runs its graph, BatchNorm folded)')
    .option('--batch <n>', 'images per inference', positiveInt('--batch'), 1)
    .option('--threads <n>', 'threads for every runtime', positiveInt('--threads'), 1)
    .option('--schedule <name>', "who runs an image on the engine rows when threads > 1: 'pool' (every image on the pool), 'caller' (the calling thread alone) or 'auto' (whichever recent images found faster)", scheduleOption, 'pool')
    .option('--runs <n>', 'timed inferences per row (median and p90 reported)', positiveInt('--runs'), 200)
    .option('--turn <n>', 'consecutive inferences of a row before the next row runs (1: every inference starts with caches the other rows filled)', positiveInt('--turn'), 20)
    .option('--layers', 'also time every layer of engine dense and engine UHP, and print where the time goes')
    .option('--json', 'print the result as JSON')
    .action(async (opts: BenchCliOptions) => {
      if ((opts.run === undefined) === (opts.model === undefined)) throw new ConfigError('--run', 'give exactly one of --run <dir> and --model <file.uhp>');
      const { benchRun, benchFile } = await import('../../bench/sources.js');
      const measured = opts.run !== undefined ? await benchRun(opts.run, opts) : await benchFile(opts.model!, opts);
      const { result, label } = measured;
      const cpu = cpuFacts();
      if (opts.json) {
        print(JSON.stringify({ ...measured.describe, cpu: cpu.model, ...result }, null, 2));
        return;
      }
      print(`${label}: batch ${result.batch}, ${result.threads} thread${result.threads === 1 ? '' : 's'}, median of ${result.runs} runs, rows taking turns of ${result.turn}`);
      print(`CPU: ${cpu.model} (${cpu.cores} cores, ${cpu.isa.join(' ') || 'no SIMD extensions found'}); engine kernels: ${result.engineIsa}, schedule ${result.schedule}`);
      print(
        formatTable(
          ['runtime', 'latency', 'p90', 'vs LibTorch', 'vs ORT', 'file size'],
          result.rows.map((r) => [r.name, `${r.ms.toFixed(3)} ms`, `${r.p90Ms.toFixed(3)} ms`, `${r.speedupVsLibtorch.toFixed(2)}x`, `${r.speedupVsOrt.toFixed(2)}x`, r.bytes === null ? '-' : kib(r.bytes)]),
        ),
      );
      for (const note of result.notes) print(`note: ${note}`);
      if (result.layers) print(layerTable(result.layers, result.runs, result.turn));
    });
}

const ms = (v: number): string => v.toFixed(4);
const mmacs = (v: number): string => (v / 1e6).toFixed(2);

function layerTable(layers: readonly LayerRow[], runs: number, turn: number): string {
  const total = (pick: (r: LayerRow) => number): number => layers.reduce((a, r) => a + pick(r), 0);
  const rows = layers.map((r) =>
    r.fused
      ? [r.name, r.op, '(in the conv above)', '', '', '', '', '']
      : [r.name, r.op, r.dense.kernel, ms(r.dense.ms), r.uhp.kernel, mmacs(r.uhp.macs), ms(r.uhp.ms), r.uhp.ms > 0 ? `${(r.dense.ms / r.uhp.ms).toFixed(2)}x` : '-'],
  );
  const dense = total((r) => r.dense.ms), uhp = total((r) => r.uhp.ms);
  rows.push(['total', '', '', ms(dense), '', mmacs(total((r) => r.uhp.macs)), ms(uhp), `${(dense / uhp).toFixed(2)}x`]);
  return [
    `\nper layer: engine dense against engine UHP, median ms per inference over ${runs} more runs each in turns of ${turn} (medians do not add up to the row latency)`,
    formatTable(['layer', 'op', 'dense kernel', 'dense ms', 'UHP kernel', 'UHP MMACs', 'UHP ms', 'speedup'], rows),
  ].join('\n');
}

interface BenchCliOptions extends BenchOptions {
  run?: string;
  model?: string;
  json?: boolean;
}
