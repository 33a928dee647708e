/**
 * int8 against float, one process, rows side by side (src/bench/measure.ts):
 * onnxruntime float dense, onnxruntime int8 (the QDQ model dst exports,
 * which onnxruntime fuses into its int8 kernels), the engine's float dense
 * and UHP 2:4 B=16, and its int8 dense and int8 UHP 2:4 B=16. Batch 1, random
 * weights, int8 calibrated on generated images. Speedups are over the
 * engine's int8 dense and over onnxruntime's rows, as the int8 issue sets them.
 * Run: npx vite-node bench/int8-speed.ts [--runs 300] [--threads 1] [--turn 20]
 */
import * as os from 'node:os';
import type { Graph } from '../src/export/ir.js';
import { toOnnxModel } from '../src/export/onnx.js';
import { writeUhp } from '../src/export/uhp-writer.js';
import { measureRoundRobin, type Contender } from '../src/bench/measure.js';
import { quantizeGraph } from '../src/quant/index.js';
import { availableIsas, loadModelBytes } from '../src/runtime/index.js';
import { aconvnet, pruned, resnet20 } from '../test/engine/graphs.js';
import { calibrationSet, rawImages } from '../test/quant/graphs.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Math.max(200, Number(arg('runs', '300')));
const threads = Number(arg('threads', '1'));
const turn = Number(arg('turn', '20'));
const ort = await import('onnxruntime-node');

const int8 = (graph: Graph): Graph => quantizeGraph(graph, calibrationSet(graph, 32, 3), { method: 'minmax' });

async function rows(graph: Graph): Promise<{ contenders: Contender[]; dispose: () => void }> {
  const uhp = pruned(graph, { kind: 'uhp', n: 2, m: 4, block: 16 });
  const image = rawImages(graph, 1, 5);
  const shape = [1, ...graph.inputShape];
  const netInput = calibrationSet(graph, 1, 5).images;
  const sessions = await Promise.all(
    [graph, int8(graph)].map((g) =>
      ort.InferenceSession.create(toOnnxModel(g), { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' }),
    ),
  );
  const engines = [graph, uhp, int8(graph), int8(uhp)].map((g, i) => loadModelBytes(writeUhp(g), `row ${i}`, { threads }));
  const feeds = sessions.map((s) => ({ [s.inputNames[0]!]: new ort.Tensor('float32', netInput, shape) }));
  const names = ['engine float dense', 'engine float UHP 2:4 B=16', 'engine int8 dense', 'engine int8 UHP 2:4 B=16'];
  return {
    contenders: [
      { name: 'onnxruntime float dense', run: () => sessions[0]!.run(feeds[0]!) },
      { name: 'onnxruntime int8 (QDQ)', run: () => sessions[1]!.run(feeds[1]!) },
      ...engines.map((e, i) => ({ name: names[i]!, run: () => e.run(image) })),
    ],
    dispose: () => engines.forEach((e) => e.dispose()),
  };
}

console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} logical cores), engine kernels ${availableIsas()[0]}, onnxruntime ${ort.env.versions.common}`);
console.log(`batch 1, ${threads} thread(s), median of ${runs} runs after 50 warm-up, rows in turns of ${turn}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [name, graph] of [['ResNet-20 (10 classes, 3x32x32)', resnet20(1, 32)], ['A-ConvNets (1x88x88)', aconvnet()]] as [string, Graph][]) {
  const { contenders, dispose } = await rows(graph);
  const ms = await measureRoundRobin(contenders, { runs, warmup: 50, turn });
  dispose();
  const at = (row: string): number => ms[contenders.findIndex((c) => c.name === row)]!.ms;
  console.log(`\n${name}\n| row | ms | int8 UHP speedup over it |\n|---|---|---|`);
  for (const [i, c] of contenders.entries()) console.log(`| ${c.name} | ${ms[i]!.ms.toFixed(3)} | ${(ms[i]!.ms / at('engine int8 UHP 2:4 B=16')).toFixed(2)}x |`);
}
