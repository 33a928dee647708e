import { describe, expect, it } from 'vitest';
import { ClassificationMeter } from '../../src/train/metrics.js';
import { tensor } from '../../src/torch/tensor.js';

describe('ClassificationMeter', () => {
  it('counts an image whose scores hold NaN or an infinity as wrong, in top-1, top-5 and per class', () => {
    const meter = new ClassificationMeter(3);
    const logits = tensor(new Float32Array([NaN, NaN, NaN, 0, Infinity, 0, 3, 1, 2, NaN, 5, 1]), [4, 3]);
    const predictions = meter.add(logits, new Int32Array([0, 1, 0, 1]), NaN);
    logits.dispose();
    expect([...predictions]).toEqual([-1, -1, 0, -1]);
    expect(meter.nonFinite).toBe(3);
    expect(meter.top1).toBe(0.25);
    expect(meter.top5).toBe(0.25);
    expect(meter.confusion).toEqual([
      [1, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(meter.perClassAccuracy().slice(0, 2)).toEqual([0.5, 0]);
  });

  it('ranks equal scores by class index, as an arg-max picks the first: top-1 is the confusion matrix\'s diagonal', () => {
    const meter = new ClassificationMeter(6);
    // Ties at the top (labels 1 and 0), a constant output (labels 0 and 5), and a label tied with five classes before it.
    const scores = [4, 4, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2];
    const logits = tensor(new Float32Array(scores), [5, 6]);
    const predictions = meter.add(logits, new Int32Array([1, 0, 0, 5, 4]), 1);
    logits.dispose();
    expect([...predictions]).toEqual([0, 0, 0, 0, 0]);
    expect(meter.top1).toBe(2 / 5);
    expect(meter.top5).toBe(4 / 5);
    const diagonal = meter.confusion.reduce((sum, row, i) => sum + row[i]!, 0);
    expect(meter.top1).toBe(diagonal / meter.count);
  });

  it('combines the meters of two halves of a set into the meter of the whole (data-parallel evaluation)', () => {
    const scores = [3, 1, 2, 0, 5, 1, 1, 1, 4, 2, 0, 1, 0, 0, 9, 7, 1, 1];
    const labels = [0, 1, 2, 2, 0, 1];
    const logits = (from: number, to: number) => tensor(new Float32Array(scores.slice(3 * from, 3 * to)), [to - from, 3]);
    const whole = new ClassificationMeter(3);
    const all = logits(0, 6);
    whole.add(all, new Int32Array(labels), 1.5);
    const halves = [new ClassificationMeter(3), new ClassificationMeter(3)];
    const parts = [logits(0, 4), logits(4, 6)];
    halves[0]!.add(parts[0]!, new Int32Array(labels.slice(0, 4)), 1.5);
    halves[1]!.add(parts[1]!, new Int32Array(labels.slice(4)), 1.5);
    for (const t of [all, ...parts]) t.dispose();
    // What an all-reduce returns to both ranks: the element-wise sum of their counts.
    const counts: number[][] = [];
    for (const m of halves) m.combine((c) => (counts.push(c), c));
    for (const m of halves) m.combine(() => counts[0]!.map((v, i) => v + counts[1]![i]!));
    for (const m of halves) {
      expect(m.count).toBe(whole.count);
      expect(m.loss).toBeCloseTo(whole.loss, 12);
      expect([m.top1, m.top5]).toEqual([whole.top1, whole.top5]);
      expect(m.confusion).toEqual(whole.confusion);
      expect(m.perClassAccuracy()).toEqual(whole.perClassAccuracy());
    }
  });
});
