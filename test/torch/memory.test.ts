import { describe, expect, it } from 'vitest';
import * as nn from '../../src/nn/index.js';
import { SGD, liveTensors, manualSeed, randint, randn, tidy } from '../../src/torch/index.js';

const MiB = 2 ** 20;

function rss(): number {
  return process.memoryUsage().rss;
}

describe('native memory', () => {
  // Node runs wrap finalizers from the event loop, which a synchronous loop
  // never yields to: memory that only a finalizer frees grows step by step
  // even though every tensor is disposed.
  it('stays flat over 1000 synchronous training steps', () => {
    manualSeed(7);
    const net = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }),
      new nn.BatchNorm2d(8),
      new nn.ReLU(),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.Linear(8, 10),
    );
    const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const x = randn([32, 3, 16, 16]);
    const y = randint(0, 10, [32]);
    const step = (): number =>
      tidy(() => {
        const loss = nn.F.crossEntropy(net.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        return loss.item();
      });

    for (let i = 0; i < 100; i++) step();
    const live = liveTensors();
    const before = rss();
    for (let i = 0; i < 1000; i++) step();
    const grownMiB = (rss() - before) / MiB;

    expect(liveTensors()).toBe(live);
    // The margin covers V8 still growing its young generation (about 3 MiB
    // here); memory held until finalizers run grows by hundreds of MiB.
    expect(grownMiB).toBeLessThan(16);
    opt.dispose();
    net.dispose();
    x.dispose();
    y.dispose();
  });
});
