import { describe, expect, it } from 'vitest';
import { SGD, manualSeed, noGrad, ones, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { F } from '../../src/nn/index.js';
import { expectClose, values } from './helpers.js';

/**
 * Checks d(sum(f(inputs) * probe))/d(input) from backward() against central
 * finite differences, in float64 so the comparison is tight.
 */
function gradCheck(shapes: number[][], f: (inputs: Tensor[]) => Tensor, only?: number[]): void {
  tidy(() => {
    manualSeed(3);
    const data = shapes.map((s) => randn(s, 'float64').data() as Float64Array);
    const make = (arrays: Float64Array[]) => arrays.map((d, i) => tensor(d, shapes[i], 'float64'));
    const inputs = make(data);
    for (const t of inputs) t.requiresGrad = true;
    const out = f(inputs);
    const probe = randn(out.shape, 'float64');
    out.mul(probe).sum().backward();
    const objective = (arrays: Float64Array[]) => tidy(() => f(make(arrays)).mul(probe).sum().item());
    const eps = 1e-6;
    for (const i of only ?? shapes.map((_, k) => k)) {
      const analytic = values(inputs[i]!.grad!);
      const numeric = Array.from(data[i]!, (_, j) => {
        const plus = data.map((d) => d.slice());
        const minus = data.map((d) => d.slice());
        plus[i]![j]! += eps;
        minus[i]![j]! -= eps;
        return (objective(plus) - objective(minus)) / (2 * eps);
      });
      expectClose(analytic, numeric, 1e-5);
    }
  });
}

describe('gradients against finite differences', () => {
  it('conv2d (input, weight, bias; stride, padding, groups)', () => {
    gradCheck([[1, 2, 5, 5], [4, 1, 3, 3], [4]], ([x, w, b]) => F.conv2d(x!, w!, b!, { stride: 2, padding: 1, groups: 2 }));
  });

  it('batch_norm in training mode', () => {
    gradCheck([[3, 2, 2, 2], [2], [2]], ([x, w, b]) => F.batchNorm(x!, null, null, w!, b!, { training: true }));
  });

  it('linear', () => {
    gradCheck([[3, 4], [5, 4], [5]], ([x, w, b]) => F.linear(x!, w!, b!));
  });

  it('cross_entropy with label smoothing', () => {
    const target = tensor([0, 2, 1], [3], 'int64');
    gradCheck([[3, 4]], ([x]) => F.crossEntropy(x!, target, { labelSmoothing: 0.1 }));
    target.dispose();
  });

  it('kl_div with respect to both distributions', () => {
    gradCheck([[2, 3], [2, 3]], ([s, t]) => F.klDiv(s!.logSoftmax(1), t!.softmax(1)));
  });
});

describe('autograd controls', () => {
  it('records nothing under noGrad and detaches', () =>
    tidy(() => {
      const w = ones([2]);
      w.requiresGrad = true;
      expect(noGrad(() => w.mul(2)).requiresGrad).toBe(false);
      expect(w.mul(2).requiresGrad).toBe(true);
      expect(w.mul(2).detach().requiresGrad).toBe(false);
      expect(w.grad).toBeNull();
      w.mul(3).sum().backward();
      expect(values(w.grad!)).toEqual([3, 3]);
      w.clearGrad();
      expect(w.grad).toBeNull();
    }));
});

describe('SGD', () => {
  it('applies momentum, Nesterov and weight decay as PyTorch does', () =>
    tidy(() => {
      const w = tensor([1]);
      w.requiresGrad = true;
      const opt = new SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 0.5, nesterov: true });
      // Loss w²: grad 2w, plus decay 0.5w -> 2.5w. Step 1: buf = g; update g + 0.9 buf.
      w.mul(w).sum().backward();
      opt.step();
      const g1 = 2.5;
      const w1 = 1 - 0.1 * (g1 + 0.9 * g1);
      expectClose(values(w), [w1]);
      opt.zeroGrad();
      w.mul(w).sum().backward();
      opt.step();
      const g2 = 2.5 * w1;
      const buf2 = 0.9 * g1 + g2;
      expectClose(values(w), [w1 - 0.1 * (g2 + 0.9 * buf2)]);
      opt.lr = 0;
      opt.zeroGrad();
      w.mul(w).sum().backward();
      const before = values(w);
      opt.step();
      expect(values(w)).toEqual(before);
      opt.dispose();
    }));

  it('rejects unusable options naming them', () => {
    const w = ones([1]);
    expect(() => new SGD([w], { lr: -1 })).toThrow(/^lr:/);
    expect(() => new SGD([w], { lr: 0.1, nesterov: true })).toThrow(/^nesterov:/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
    w.dispose();
  });
});
