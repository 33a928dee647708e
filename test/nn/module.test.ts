import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, Dropout, F, Flatten, Linear, MaxPool2d, ReLU, Sequential, countMacs } from '../../src/nn/index.js';
import { SGD, liveTensors, manualSeed, randint, randn, tensor, tidy, zeros } from '../../src/torch/index.js';

function smallNet(): Sequential {
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1 }),
    new BatchNorm2d(8),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 8, 3, { padding: 1, bias: false }),
    new BatchNorm2d(8),
    new ReLU(),
    new Flatten(),
    new Dropout(0.1),
    new Linear(8 * 4 * 4, 4),
  );
}

describe('Module', () => {
  it('names parameters and buffers as PyTorch does', () => {
    const net = smallNet();
    expect([...net.stateDict().keys()]).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '4.weight',
      '5.weight',
      '5.bias',
      '9.weight',
      '9.bias',
      '1.running_mean',
      '1.running_var',
      '1.num_batches_tracked',
      '5.running_mean',
      '5.running_var',
      '5.num_batches_tracked',
    ]);
    expect(net.parameterCount()).toBe(8 * 9 + 8 + 16 + 8 * 8 * 9 + 16 + 128 * 4 + 4);
    net.dispose();
  });

  it('initialises as PyTorch: conv/linear U(±1/sqrt(fanIn)), BN weight 1 and bias 0', () => {
    manualSeed(0);
    const conv = new Conv2d(16, 32, 3);
    const bound = 1 / Math.sqrt(16 * 9);
    const w = conv.weight.toArray();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    const bn = new BatchNorm2d(4);
    expect(bn.weight.toArray()).toEqual([1, 1, 1, 1]);
    expect(bn.bias.toArray()).toEqual([0, 0, 0, 0]);
    conv.dispose();
    bn.dispose();
  });

  it('switches train/eval for every child and counts tracked batches', () => {
    const net = smallNet();
    net.eval();
    expect([...net.namedModules()].every(([, m]) => !m.training)).toBe(true);
    const bn = net.layers[1] as BatchNorm2d;
    tidy(() => void net.forward(zeros([2, 1, 8, 8])));
    expect(bn.numBatchesTracked.item()).toBe(0);
    net.train();
    tidy(() => void net.forward(randn([2, 1, 8, 8])));
    expect(bn.numBatchesTracked.item()).toBe(1);
    net.dispose();
  });

  it('counts MACs of conv and linear layers', () => {
    const net = smallNet();
    net.eval();
    const macs = countMacs(() => tidy(() => void net.forward(zeros([1, 1, 8, 8]))));
    expect(macs).toBe(8 * 8 * 8 * 9 + 4 * 4 * 8 * 8 * 9 + 128 * 4);
    net.dispose();
  });

  it('trains 200 steps without leaking a tensor, and the loss falls', () => {
    manualSeed(1);
    const net = smallNet();
    const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    // Learnable task: the class is the quadrant holding the brightest pixel.
    const batch = () =>
      tidy(() => {
        const y = randint(0, 4, [32]);
        const bright = new Float32Array(32 * 64);
        y.toArray().forEach((c, i) => {
          bright[i * 64 + ((c >> 1) * 4 + 1) * 8 + (c & 1) * 4 + 1] = 3;
        });
        return { x: randn([32, 1, 8, 8]).mul(0.1).add(tensor(bright, [32, 1, 8, 8])), y };
      });
    const losses: number[] = [];
    let live = -1;
    for (let step = 0; step < 200; step++) {
      tidy(() => {
        const { x, y } = batch();
        opt.zeroGrad();
        const loss = F.crossEntropy(net.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      });
      if (step === 10) live = liveTensors();
      if (step > 10) expect(liveTensors()).toBe(live);
    }
    const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(last).toBeLessThan(first * 0.3);
    opt.dispose();
    net.dispose();
  });
});

