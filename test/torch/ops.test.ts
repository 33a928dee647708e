import { describe, expect, it } from 'vitest';
import {
  arange,
  cat,
  full,
  liveTensors,
  manualSeed,
  ones,
  rand,
  randint,
  randn,
  randperm,
  scalar,
  stack,
  tensor,
  tidy,
  where,
  zeros,
} from '../../src/torch/index.js';
import { F } from '../../src/nn/index.js';
import { expectClose, values } from './helpers.js';

describe('creation and conversion', () => {
  it('round-trips every dtype through TypedArrays', () =>
    tidy(() => {
      expect(Array.from(tensor(new Float32Array([1.5, -2]), [2]).data() as Float32Array)).toEqual([1.5, -2]);
      expect(Array.from(tensor(new Float64Array([1e-300]), [1]).data() as Float64Array)).toEqual([1e-300]);
      expect(Array.from(tensor([3, -4], [2], 'int64').data() as BigInt64Array)).toEqual([3n, -4n]);
      expect(Array.from(tensor(new Uint8Array([255, 0]), [2]).data() as Uint8Array)).toEqual([255, 0]);
      const b = tensor([1, 0, 1], [3], 'bool');
      expect(b.dtype).toBe('bool');
      expect(values(b)).toEqual([1, 0, 1]);
    }));

  it('reports shape, dtype, size, item and a printable form', () =>
    tidy(() => {
      const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float32');
      expect(t.size).toBe(6);
      expect(scalar(7).item()).toBe(7);
      expect(t.toString()).toContain('CPUFloatType{2,3}');
    }));

  it('rejects data that does not fit the shape', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/12 bytes, shape needs 16/);
    expect(() => tensor([1], [-1])).toThrow(/invalid shape/);
  });

  it('fills zeros, ones, full and arange', () =>
    tidy(() => {
      expect(values(zeros([2]))).toEqual([0, 0]);
      expect(values(ones([2], 'int64'))).toEqual([1, 1]);
      expect(values(full([3], 2.5))).toEqual([2.5, 2.5, 2.5]);
      expect(values(arange(0, 5, 2))).toEqual([0, 2, 4]);
    }));

  it('draws reproducible random numbers from manualSeed', () =>
    tidy(() => {
      manualSeed(7);
      const a = [values(rand([4])), values(randn([4])), values(randint(0, 10, [4])), values(randperm(5))];
      manualSeed(7);
      const b = [values(rand([4])), values(randn([4])), values(randint(0, 10, [4])), values(randperm(5))];
      expect(a).toEqual(b);
      expect(a[0]!.every((v) => v >= 0 && v < 1)).toBe(true);
      expect(a[2]!.every((v) => Number.isInteger(v) && v >= 0 && v < 10)).toBe(true);
      expect([...a[3]!].sort()).toEqual([0, 1, 2, 3, 4]);
    }));
});

describe('elementwise', () => {
  it('adds, subtracts, multiplies and divides tensors and scalars', () =>
    tidy(() => {
      const a = tensor([1, 2, 3, 4]);
      const b = tensor([4, 3, 2, 1]);
      expect(values(a.add(b))).toEqual([5, 5, 5, 5]);
      expect(values(a.sub(b))).toEqual([-3, -1, 1, 3]);
      expect(values(a.mul(b))).toEqual([4, 6, 6, 4]);
      expect(values(a.div(2))).toEqual([0.5, 1, 1.5, 2]);
      expect(values(a.add(1))).toEqual([2, 3, 4, 5]);
      expect(values(a.mul(tensor([2], [1])))).toEqual([2, 4, 6, 8]);
    }));

  it('updates in place', () =>
    tidy(() => {
      const a = tensor([1, 2]);
      a.add_(tensor([1, 1]), 3).mul_(2).sub_(1).div_(2);
      expect(values(a)).toEqual([3.5, 4.5]);
      a.fill_(-1).relu_();
      expect(values(a)).toEqual([0, 0]);
      a.copy_(tensor([9, 8]));
      expect(values(a)).toEqual([9, 8]);
    }));

  it('computes unary maths', () =>
    tidy(() => {
      const a = tensor([-4, 0, 4]);
      expect(values(a.abs())).toEqual([4, 0, 4]);
      expect(values(a.neg())).toEqual([4, -0, -4]);
      expect(values(a.relu())).toEqual([0, 0, 4]);
      expect(values(a.sign())).toEqual([-1, 0, 1]);
      expect(values(a.clamp(-1, 2))).toEqual([-1, 0, 2]);
      expect(values(a.clamp(null, 1))).toEqual([-4, 0, 1]);
      expect(values(tensor([4, 9]).sqrt())).toEqual([2, 3]);
      expect(values(tensor([2, 3]).pow(2))).toEqual([4, 9]);
      expectClose(values(tensor([0, 1]).exp()), [1, Math.E]);
      expectClose(values(tensor([1, Math.E]).log()), [0, 1]);
    }));

  it('compares and selects', () =>
    tidy(() => {
      const a = tensor([1, 2, 3]);
      expect(values(a.eq(2))).toEqual([0, 1, 0]);
      expect(values(a.ne(2))).toEqual([1, 0, 1]);
      expect(values(a.lt(2))).toEqual([1, 0, 0]);
      expect(values(a.le(2))).toEqual([1, 1, 0]);
      expect(values(a.gt(tensor([0, 5, 1])))).toEqual([1, 0, 1]);
      expect(values(a.ge(3))).toEqual([0, 0, 1]);
      expect(values(where(a.gt(1), a, tensor([0, 0, 0])))).toEqual([0, 2, 3]);
      expect(values(where(a.gt(1), a, -1))).toEqual([-1, 2, 3]);
    }));

  it('multiplies matrices', () =>
    tidy(() => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const b = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
      expect(values(a.matmul(b))).toEqual([4, 5, 10, 11]);
    }));
});

describe('reductions', () => {
  it('sums, averages and finds extremes', () =>
    tidy(() => {
      const a = tensor([1, 5, 3, 4, 2, 6], [2, 3]);
      expect(a.sum().item()).toBe(21);
      expect(values(a.sum(1))).toEqual([9, 12]);
      expect(a.sum(0, true).shape).toEqual([1, 3]);
      expect(values(a.mean(0))).toEqual([2.5, 3.5, 4.5]);
      expect(a.max().item()).toBe(6);
      expect(a.min().item()).toBe(1);
      const m = a.maxAlong(1);
      expect(values(m.values)).toEqual([5, 6]);
      expect(values(m.indices)).toEqual([1, 2]);
      expect(values(a.argmax(1))).toEqual([1, 2]);
      const top = a.topk(2, 1);
      expect(values(top.values)).toEqual([5, 3, 6, 4]);
      expect(values(top.indices)).toEqual([1, 2, 2, 0]);
    }));
});

describe('shape', () => {
  it('reshapes, permutes, flattens and squeezes', () =>
    tidy(() => {
      const a = arange(0, 6).reshape([2, 3]);
      expect(values(a.permute([1, 0]).contiguous())).toEqual([0, 3, 1, 4, 2, 5]);
      expect(values(a.transpose(0, 1).contiguous())).toEqual([0, 3, 1, 4, 2, 5]);
      expect(a.view([3, 2]).shape).toEqual([3, 2]);
      expect(a.reshape([1, 2, 3]).flatten(1).shape).toEqual([1, 6]);
      expect(a.unsqueeze(0).shape).toEqual([1, 2, 3]);
      expect(a.unsqueeze(0).squeeze(0).shape).toEqual([2, 3]);
    }));

  it('concatenates, stacks, narrows, selects, pads and flips', () =>
    tidy(() => {
      const a = tensor([1, 2]);
      const b = tensor([3, 4]);
      expect(values(cat([a, b]))).toEqual([1, 2, 3, 4]);
      expect(stack([a, b], 1).shape).toEqual([2, 2]);
      expect(values(stack([a, b], 1))).toEqual([1, 3, 2, 4]);
      expect(values(arange(0, 6).narrow(0, 2, 3))).toEqual([2, 3, 4]);
      expect(values(arange(0, 6).indexSelect(0, tensor([5, 0], [2], 'int64')))).toEqual([5, 0]);
      expect(values(a.pad([1, 2], 9))).toEqual([9, 1, 2, 9, 9]);
      expect(values(tensor([1, 2, 3, 4], [2, 2]).flip([1]))).toEqual([2, 1, 4, 3]);
    }));
});

describe('neural-network ops (hand-computed)', () => {
  it('convolves with stride, padding, dilation and groups', () =>
    tidy(() => {
      const x = arange(1, 10).reshape([1, 1, 3, 3]);
      const w = ones([1, 1, 2, 2]);
      expect(values(F.conv2d(x, w, null))).toEqual([12, 16, 24, 28]);
      expect(values(F.conv2d(x, w, tensor([1]), { stride: 2, padding: 1 }))).toEqual([2, 6, 12, 29]);
      expect(values(F.conv2d(x, w, null, { dilation: 2 }))).toEqual([20]);
      // Two groups: each output channel sees only its own input channel.
      const x2 = cat([x, x.mul(10)], 1);
      const w2 = tensor([1, 0, 0, 0, 0, 0, 0, 1], [2, 1, 2, 2]);
      expect(values(F.conv2d(x2, w2, null, { groups: 2 }))).toEqual([1, 2, 4, 5, 50, 60, 80, 90]);
    }));

  it('batch-normalises with batch statistics in training and running ones in evaluation', () =>
    tidy(() => {
      const x = tensor([1, 3, 5, 7], [2, 2, 1, 1]); // channel 0: 1,5; channel 1: 3,7
      const rm = zeros([2]);
      const rv = ones([2]);
      const y = F.batchNorm(x, rm, rv, tensor([1, 2]), tensor([0, 1]), { training: true, momentum: 0.1, eps: 0 });
      expectClose(values(y), [-1, -1, 1, 3]);
      expectClose(values(rm), [0.3, 0.5]);
      // Unbiased variance (8) enters the running estimate, as in PyTorch.
      expectClose(values(rv), [0.9 + 0.8, 0.9 + 0.8]);
      const e = F.batchNorm(tensor([2], [1, 1, 1, 1]), tensor([1]), tensor([4]), null, null, { training: false, eps: 0 });
      expectClose(values(e), [0.5]);
    }));

  it('pools', () =>
    tidy(() => {
      const x = arange(1, 17).reshape([1, 1, 4, 4]);
      expect(values(F.maxPool2d(x, 2))).toEqual([6, 8, 14, 16]);
      expect(values(F.avgPool2d(x, 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
      expect(values(F.maxPool2d(x, 3, { stride: 1, padding: 1 })).slice(0, 2)).toEqual([6, 7]);
      expect(values(F.adaptiveAvgPool2d(x, 1))).toEqual([8.5]);
      expect(values(F.adaptiveAvgPool2d(x, 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
    }));

  it('computes linear layers and flattening', () =>
    tidy(() => {
      const x = tensor([1, 2], [1, 2]);
      const w = tensor([1, 1, 2, -1, 0, 3], [3, 2]);
      expect(values(F.linear(x, w, tensor([0, 1, -1])))).toEqual([3, 1, 5]);
      expect(F.flatten(zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    }));

  it('drops out with the right scale in training and passes through in evaluation', () =>
    tidy(() => {
      manualSeed(1);
      const y = values(F.dropout(ones([1000]), 0.5, true));
      expect(y.every((v) => v === 0 || v === 2)).toBe(true);
      const kept = y.filter((v) => v === 2).length;
      expect(kept).toBeGreaterThan(400);
      expect(kept).toBeLessThan(600);
      expect(values(F.dropout(ones([3]), 0.5, false))).toEqual([1, 1, 1]);
    }));

  it('computes softmax and log-softmax', () =>
    tidy(() => {
      const x = tensor([0, Math.log(3)], [1, 2]);
      expectClose(values(F.softmax(x, 1)), [0.25, 0.75]);
      expectClose(values(F.logSoftmax(x, 1)), [Math.log(0.25), Math.log(0.75)]);
    }));

  it('computes cross-entropy, with label smoothing', () =>
    tidy(() => {
      const logits = tensor([0, Math.log(3), 0, 0], [2, 2]);
      const target = tensor([1, 0], [2], 'int64');
      const ce = (-Math.log(0.75) - Math.log(0.5)) / 2;
      expectClose([F.crossEntropy(logits, target).item()], [ce]);
      expectClose(values(F.crossEntropy(logits, target, { reduction: 'none' })), [-Math.log(0.75), -Math.log(0.5)]);
      expectClose([F.crossEntropy(logits, target, { reduction: 'sum' }).item()], [2 * ce]);
      // Smoothing 0.2 over 2 classes: target distribution 0.9 / 0.1.
      const smoothed = (-(0.9 * Math.log(0.75) + 0.1 * Math.log(0.25)) - Math.log(0.5)) / 2;
      expectClose([F.crossEntropy(logits, target, { labelSmoothing: 0.2 }).item()], [smoothed]);
    }));

  it('computes KL divergence from log-probabilities', () =>
    tidy(() => {
      const p = [0.5, 0.5];
      const q = [0.25, 0.75];
      const kl = p[0]! * Math.log(p[0]! / q[0]!) + p[1]! * Math.log(p[1]! / q[1]!);
      const logQ = tensor(q.map(Math.log), [1, 2]);
      expectClose([F.klDiv(logQ, tensor(p, [1, 2])).item()], [kl]);
      expectClose([F.klDiv(logQ, tensor(p.map(Math.log), [1, 2]), { logTarget: true }).item()], [kl]);
      expectClose([F.klDiv(logQ, tensor(p, [1, 2]), { reduction: 'sum' }).item()], [kl]);
    }));
});

describe('memory', () => {
  it('frees everything created in tidy except what it returns', () => {
    const before = liveTensors();
    const kept = tidy(() => {
      const a = ones([10]);
      const b = a.add(1);
      a.mul(3);
      return { b, list: [b.mul(2)] };
    });
    expect(liveTensors()).toBe(before + 2);
    kept.b.dispose();
    kept.list[0]!.dispose();
    expect(liveTensors()).toBe(before);
  });

  it('frees everything when the function throws', () => {
    const before = liveTensors();
    expect(() =>
      tidy(() => {
        ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(liveTensors()).toBe(before);
  });

  it('names a disposed tensor instead of crashing', () => {
    const t = ones([1]);
    t.dispose();
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.add(1)).toThrow(/disposed/);
  });

  it('turns LibTorch errors into one-line messages', () =>
    tidy(() => {
      let message = '';
      try {
        ones([2, 3]).matmul(ones([2, 3]));
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/cannot be multiplied/);
      expect(message).not.toMatch(/\n/);
    }));
});
