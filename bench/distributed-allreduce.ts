/**
 * What the gradient all-reduce alone costs: two ranks on loopback (this
 * script starts the second one itself) all-reduce a float32 bucket the size
 * of a model's gradients, BatchNorm statistics included, back to back.
 * Together with the `commMsPerStep` of a training epoch (which also counts
 * the wait for the slower rank) it splits a step's communication into the
 * transfer and the imbalance.
 *
 * Usage: npx vite-node bench/distributed-allreduce.ts -- [--model resnet20] [--reps 200]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createModel } from '../src/models/index.js';
import { initProcessGroup, setNumThreads, zeros } from '../src/torch/index.js';
import { machineLine, median } from './common.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'resnet20' }, reps: { type: 'string', default: '200' } } });
const script = fileURLToPath(import.meta.url);

if (process.env.RANK === undefined) {
  // The launcher side: a free port, then this script once more as each rank.
  const port = 29_000 + Math.floor(Math.random() * 2_000);
  const ranks = [0, 1].map((rank) =>
    spawn(process.execPath, [...process.execArgv, process.argv[1]!, script, ...process.argv.slice(2)], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), GLOG_minloglevel: '3' },
      stdio: ['ignore', rank === 0 ? 'inherit' : 'ignore', 'inherit'],
    }),
  );
  const codes = await Promise.all(ranks.map((r) => new Promise<number>((resolve) => r.on('exit', (code) => resolve(code ?? 1)))));
  process.exitCode = codes.some((c) => c !== 0) ? 1 : 0;
} else {
  setNumThreads(1);
  const model = createModel(values.model, { numClasses: 10 });
  const elements = model.parameters().reduce((n, p) => n + p.size, 0) + [...model.namedBuffers()].filter(([k]) => /running_(mean|var)$/.test(k)).reduce((n, [, b]) => n + b.size, 0) + 3;
  model.dispose();
  const group = initProcessGroup({ timeoutMs: 60_000 });
  const bucket = zeros([elements]);
  const ms: number[] = [];
  for (let i = 0; i < 20 + Number(values.reps); i++) {
    const t0 = performance.now();
    group.allReduce([bucket]);
    if (i >= 20) ms.push(performance.now() - t0);
  }
  group.destroy();
  if (group.rank === 0) {
    console.log(machineLine());
    console.log(`${values.model}: one all-reduce of ${elements} float32 (${((elements * 4) / 2 ** 20).toFixed(2)} MiB) between 2 ranks on loopback, ${values.reps} reps after 20 warm-up`);
    ms.sort((a, b) => a - b);
    console.log(`median ${median(ms).toFixed(2)} ms, 10th percentile ${ms[Math.floor(ms.length / 10)]!.toFixed(2)} ms, 90th ${ms[Math.floor((ms.length * 9) / 10)]!.toFixed(2)} ms`);
  }
}
