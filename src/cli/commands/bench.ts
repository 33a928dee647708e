import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { benchModel } from '../../bench/bench.js';
import { layerPatterns, loadRunModel, modelGraph, withPatterns } from '../../export/from-run.js';
import { weightLayers } from '../../nn/inspect.js';
import { cpuFacts } from '../cpu.js';
import { formatTable } from '../output.js';
import { positiveInt } from '../parse.js';

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

export function registerBench(program: Command, print: (text: string) => void): void {
  program
    .command('bench')
    .description("time a run's model through LibTorch, onnxruntime and dst's engine (dense, unstructured CSR, UHP), side by side in one process")
    .requiredOption('--run <dir>', 'run directory holding model.safetensors')
    .option('--batch <n>', 'images per inference', positiveInt('--batch'), 1)
    .option('--threads <n>', 'threads for every runtime', positiveInt('--threads'), 1)
    .option('--runs <n>', 'timed inferences per row (median reported)', positiveInt('--runs'), 200)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { run: string; batch: number; threads: number; runs: number; json?: boolean }) => {
      const { model, info, file, masked, recordedPattern } = await loadRunModel(opts.run);
      try {
        const patterns = layerPatterns(model, masked, recordedPattern ?? { kind: 'dense' });
        const graph = withPatterns(modelGraph(model, info.input), patterns);
        const layers = new Set(weightLayers(model).map((l) => l.name));
        const result = await benchModel({ model, modelBytes: statSync(file).size, graph, layers }, opts);
        const cpu = cpuFacts();
        if (opts.json) {
          print(JSON.stringify({ run: opts.run, model: info.model, input: info.input, cpu: cpu.model, ...result }, null, 2));
          return;
        }
        print(`${opts.run} (${info.model}, input ${info.input.join('x')}): batch ${result.batch}, ${result.threads} thread${result.threads === 1 ? '' : 's'}, median of ${result.runs} runs, rows interleaved`);
        print(`CPU: ${cpu.model} (${cpu.cores} cores, ${cpu.isa.join(' ') || 'no SIMD extensions found'})`);
        print(
          formatTable(
            ['runtime', 'latency', 'vs LibTorch', 'vs ORT', 'file size'],
            result.rows.map((r) => [r.name, `${r.ms.toFixed(3)} ms`, `${r.speedupVsLibtorch.toFixed(2)}x`, `${r.speedupVsOrt.toFixed(2)}x`, kib(r.bytes)]),
          ),
        );
        for (const note of result.notes) print(`note: ${note}`);
      } finally {
        model.dispose();
      }
    });
}
