import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/data/loader.js';
import { BatchNorm2d, Sequential } from '../../src/nn/index.js';
import { recalibrateBatchNorm } from '../../src/train/bn-recalibration.js';

/** One channel, 2 images of 2x2: the batch mean is `offset + 1.5`, the unbiased variance fixed by the values. */
function batch(offset: number, scale: number): Batch {
  const values = [0, 1, 2, 3, 0, 1, 2, 3].map((v) => offset + scale * v);
  return { x: Float32Array.from(values), y: Int32Array.from([0, 0]), n: 2, c: 1, h: 2, w: 2 };
}

async function* stream(batches: Batch[]): AsyncGenerator<Batch> {
  yield* batches;
}

function unbiasedVar(b: Batch): number {
  const mean = b.x.reduce((s, v) => s + v, 0) / b.x.length;
  return b.x.reduce((s, v) => s + (v - mean) ** 2, 0) / (b.x.length - 1);
}

describe('recalibrateBatchNorm', () => {
  it('sets the running statistics to the plain average over the first maxBatches batches', async () => {
    const bn = new BatchNorm2d(1);
    const net = new Sequential(bn).eval();
    bn.runningMean.fill_(100);
    const batches = [batch(0, 1), batch(10, 2), batch(-4, 3), batch(1000, 50)];
    const used = await recalibrateBatchNorm(net, stream(batches), 3);
    expect(used).toBe(3);
    const means = batches.slice(0, 3).map((b) => b.x.reduce((s, v) => s + v, 0) / b.x.length);
    expect(bn.runningMean.toArray()[0]).toBeCloseTo(means.reduce((s, v) => s + v) / 3, 5);
    const vars = batches.slice(0, 3).map(unbiasedVar);
    expect(bn.runningVar.toArray()[0]).toBeCloseTo(vars.reduce((s, v) => s + v) / 3, 4);
    expect(bn.momentum).toBe(0.1);
    expect(net.training).toBe(false);
  });

  it('leaves a network without BatchNorm and a zero batch count alone', async () => {
    const bn = new BatchNorm2d(1);
    bn.runningMean.fill_(7);
    expect(await recalibrateBatchNorm(new Sequential(bn), stream([batch(0, 1)]), 0)).toBe(0);
    expect(bn.runningMean.toArray()[0]).toBe(7);
    expect(await recalibrateBatchNorm(new Sequential(), stream([batch(0, 1)]), 5)).toBe(0);
  });
});
