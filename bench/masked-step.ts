/**
 * Cost of pruning during training: one ResNet-20 training step (batch 128)
 * dense, with UHP 2:4 masks while they still move (straight-through
 * gradients + SR-STE decay), and with fixed masks (pruned weights re-zeroed
 * after the step), interleaved in one process.
 * Usage: npm run bench:masked-step -- [--batch 128] [--threads 1] [--steps 10] [--rounds 4]
 */
import { parseArgs } from 'node:util';
import { createModel } from '../src/models/index.js';
import { F } from '../src/nn/index.js';
import { parsePattern } from '../src/sparsity/index.js';
import { PruningController } from '../src/sparsity/training.js';
import { SGD, manualSeed, randint, randn, setNumThreads, tidy } from '../src/torch/index.js';
import { machineLine, median } from './common.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: '1' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
setNumThreads(Number(values.threads));

type Mode = 'dense' | 'moving masks' | 'fixed masks';

function setup(mode: Mode) {
  manualSeed(0);
  const model = createModel('resnet20').train();
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  // A ramp far longer than the benchmark keeps masks moving; gradualEpochs 0 fixes them at once.
  const controller =
    mode === 'dense'
      ? null
      : new PruningController(model, parsePattern('uhp:2:4'), { gradualEpochs: mode === 'moving masks' ? 1000 : 0, updateEvery: 1_000_000, straightThrough: true, srSteDecay: 2e-4 }, 10);
  controller?.install();
  controller?.start(0);
  return { model, opt, controller };
}

const x = randn([batch, 3, 32, 32]);
const y = randint(0, 10, [batch]);
const modes: Mode[] = ['dense', 'moving masks', 'fixed masks'];
const nets = new Map(modes.map((m) => [m, setup(m)]));
const times = new Map<Mode, number[]>(modes.map((m) => [m, []]));
let globalStep = 0;
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    const { model, opt, controller } = nets.get(mode)!;
    for (let i = 0; i < steps + (round === 0 ? 2 : 0); i++) {
      const t0 = performance.now();
      tidy(() => {
        opt.zeroGrad();
        F.crossEntropy(model.forward(x), y).backward();
        controller?.beforeStep();
        opt.step();
      });
      controller?.afterStep(globalStep++);
      if (round > 0 || i >= 2) times.get(mode)!.push(performance.now() - t0);
    }
  }
}
console.log(machineLine());
console.log(`ResNet-20 training step, batch ${batch}, ${values.threads} thread(s), median of ${rounds} x ${steps} steps per mode, modes interleaved`);
const dense = median(times.get('dense')!);
for (const mode of modes) {
  const t = median(times.get(mode)!);
  console.log(`${mode.padEnd(13)} ${t.toFixed(1).padStart(8)} ms  ${(t / dense).toFixed(3)}x dense${mode === 'dense' ? '' : '  (target <= 1.15x)'}`);
}
