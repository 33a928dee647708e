import { describe, expect, it } from 'vitest';
import { dstLoss, kdLoss, softKl } from '../../src/distill/losses.js';
import { tensor, tidy } from '../../src/torch/index.js';

function softmax(v: number[], t: number): number[] {
  const e = v.map((x) => Math.exp(x / t));
  const s = e.reduce((a, b) => a + b);
  return e.map((x) => x / s);
}

function kl(p: number[], q: number[]): number {
  return p.reduce((sum, pi, i) => sum + pi * Math.log(pi / q[i]!), 0);
}

describe('distillation losses', () => {
  const s = [1, 2, 0.5];
  const t = [3, 0, 1];
  const d = [0.2, 1.5, -1];
  const label = 1;
  const T = 4;
  const a = 0.7;
  const ce = -Math.log(softmax(s, 1)[label]!);
  const klTeacher = kl(softmax(t, T), softmax(s, T));
  const klDense = kl(softmax(d, T), softmax(s, T));

  it('softKl is T²·KL(softmax(t/T) || softmax(s/T))', () =>
    tidy(() => {
      expect(softKl(tensor(s, [1, 3]), tensor(t, [1, 3]), T).item()).toBeCloseTo(T * T * klTeacher, 5);
    }));

  it('KD loss equals the hand-computed value', () =>
    tidy(() => {
      const loss = kdLoss(tensor(s, [1, 3]), tensor(t, [1, 3]), tensor([label], [1], 'int64'), { temperature: T, alpha: a });
      expect(loss.item()).toBeCloseTo((1 - a) * ce + a * T * T * klTeacher, 5);
    }));

  it('DST loss adds the dense student term with weight b, and is KD when b = 0', () =>
    tidy(() => {
      const args = [tensor(s, [1, 3]), tensor(t, [1, 3]), tensor(d, [1, 3]), tensor([label], [1], 'int64')] as const;
      const loss = dstLoss(...args, { temperature: T, alpha: a, beta: 0.5 });
      expect(loss.item()).toBeCloseTo((1 - a) * ce + a * T * T * klTeacher + 0.5 * T * T * klDense, 5);
      expect(dstLoss(...args, { temperature: T, alpha: a, beta: 0 }).item()).toBeCloseTo((1 - a) * ce + a * T * T * klTeacher, 5);
    }));

  it('averages over the batch', () =>
    tidy(() => {
      const one = kdLoss(tensor(s, [1, 3]), tensor(t, [1, 3]), tensor([label], [1], 'int64'), { temperature: T, alpha: a }).item();
      const two = kdLoss(tensor([...s, ...s], [2, 3]), tensor([...t, ...t], [2, 3]), tensor([label, label], [2], 'int64'), { temperature: T, alpha: a }).item();
      expect(two).toBeCloseTo(one, 5);
    }));

  it('rejects bad weights naming the key', () =>
    tidy(() => {
      const x = tensor(s, [1, 3]);
      const y = tensor([0], [1], 'int64');
      expect(() => kdLoss(x, x, y, { temperature: 0, alpha: 0.5 })).toThrow(/^kd\.temperature:/);
      expect(() => kdLoss(x, x, y, { temperature: 1, alpha: 1.5 })).toThrow(/^kd\.alpha:/);
    }));
});
