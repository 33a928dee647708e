/**
 * One ResNet-20 training step (batch 128 by default) through dst and through
 * the same network written directly in C++ against LibTorch, in one run.
 * Usage: npm run bench:train-step -- [--batch 128] [--threads 1] [--steps 20]
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createModel } from '../src/models/index.js';
import { F } from '../src/nn/index.js';
import { SGD, manualSeed, randint, randn, setNumThreads, tidy } from '../src/torch/index.js';
import { buildTorchProgram, machineLine, median, repoRoot } from './common.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '4' },
  },
});
const batch = Number(values.batch);
const threads = Number(values.threads);
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);

function dstSteps(): number[] {
  setNumThreads(threads);
  manualSeed(0);
  const model = createModel('resnet20', { numClasses: 10 }).train();
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const x = randn([batch, 3, 32, 32]);
  const y = randint(0, 10, [batch]);
  const ms: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(model.forward(x), y).backward();
      opt.step();
    });
    if (i >= warmup) ms.push(performance.now() - t0);
  }
  x.dispose();
  y.dispose();
  opt.dispose();
  model.dispose();
  return ms;
}

function cppSteps(): number[] {
  const program = buildTorchProgram(path.join(repoRoot, 'bench', 'ref', 'train_step.cc'), 'train_step');
  const out = execFileSync(program, [String(batch), String(threads), String(warmup), String(steps)], { encoding: 'utf8' });
  return out.trim().split('\n').map(Number);
}

console.log(machineLine());
console.log(`ResNet-20 training step, batch ${batch}, ${threads} thread(s), median of ${rounds} x ${steps} steps per side after ${warmup} warm-up, sides alternating`);
// Alternate the two sides so drift in machine load hits both alike.
const dst: number[] = [];
const cpp: number[] = [];
for (let round = 0; round < rounds; round++) {
  cpp.push(...cppSteps());
  dst.push(...dstSteps());
}
const d = median(dst);
const c = median(cpp);
console.log(`direct C++ (LibTorch)  ${c.toFixed(1)} ms`);
console.log(`dst (TypeScript)       ${d.toFixed(1)} ms`);
console.log(`ratio dst / C++        ${(d / c).toFixed(3)}x  (target <= 1.10x)`);
