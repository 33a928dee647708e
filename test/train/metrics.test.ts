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
});
