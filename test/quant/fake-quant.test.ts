import { describe, expect, it } from 'vitest';
import { GRAPH_INPUT } from '../../src/export/ir.js';
import { modelGraph } from '../../src/export/from-run.js';
import { AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { fakeQuantModel } from '../../src/quant/fake-quant-model.js';
import { fakeQuantActivation, fakeQuantWeights, weightScales } from '../../src/quant/fake-quant.js';
import { WEIGHT_CODE_MAX } from '../../src/quant/params.js';
import { quantizeWeights } from '../../src/quant/params.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { quantizeInput, runInt8, runInt8Values } from '../../src/quant/reference.js';
import { quantizeWithRecorded, type RecordedRanges } from '../../src/quant/recorded-ranges.js';
import { manualSeed, noGrad, rand, randn, tensor, type Tensor } from '../../src/torch/tensor.js';
import { tidy } from '../../src/torch/scope.js';
import { argmax, rawImages } from './graphs.js';

/** Every op the int8 export knows: folded BN, a BN with no conv before it (a depthwise conv), add, both pools, a masked layer. */
class Tiny extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d(1, 8, 3, { padding: 1, bias: false }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d(8));
  readonly conv2 = this.registerModule('conv2', new Conv2d(8, 8, 3, { padding: 1, bias: false }));
  readonly bn2 = this.registerModule('bn2', new BatchNorm2d(8));
  readonly bn3 = this.registerModule('bn3', new BatchNorm2d(8));
  readonly pool = this.registerModule('pool', new MaxPool2d(2));
  readonly conv3 = this.registerModule('conv3', new Conv2d(8, 16, 3, { padding: 1 }));
  readonly avg = this.registerModule('avg', new AvgPool2d(2));
  readonly gap = this.registerModule('gap', new AdaptiveAvgPool2d(1));
  readonly fc = this.registerModule('fc', new Linear(16, 5));

  forward(x: Tensor): Tensor {
    const a = this.bn1.forward(this.conv1.forward(x)).relu();
    const b = this.bn2.forward(this.conv2.forward(a));
    const c = this.bn3.forward(a.add(b)).relu();
    const d = this.avg.forward(this.conv3.forward(this.pool.forward(c)).relu());
    return this.fc.forward(this.gap.forward(d).flatten(1));
  }
}

function tinyModel(): Tiny {
  manualSeed(3);
  const model = new Tiny();
  noGrad(() =>
    tidy(() => {
      for (const bn of [model.bn1, model.bn2, model.bn3]) {
        bn.runningMean.copy_(randn([8]).mul(0.2));
        bn.runningVar.copy_(rand([8]).add(0.5));
        bn.weight.copy_(rand([8]).add(0.5));
        bn.bias.copy_(randn([8]).mul(0.1));
      }
      // 2:4 along the input channels: the pruned weights must stay exactly zero.
      const mask = new Float32Array(8 * 8 * 9).map((_, k) => (Math.floor(k / 9) % 8) % 4 < 2 ? 1 : 0);
      model.conv2.setWeightMask(tensor(mask, [8, 8, 3, 3]));
      model.conv2.applyMaskToWeight();
    }),
  );
  return model.eval();
}

describe('fake quantization', () => {
  it('puts weights on quantizeWeights\' grid, per output channel, zeros kept', () => {
    const w = Float32Array.from({ length: 6 * 20 }, (_, k) => (k % 5 === 0 ? 0 : Math.sin(k * 1.7) * (1 + (k % 7))));
    const { weight: codes, scales } = quantizeWeights(w, 6);
    const got = noGrad(() =>
      tidy(() => {
        const t = tensor(w, [6, 20]);
        return fakeQuantWeights(t, weightScales(t, WEIGHT_CODE_MAX), WEIGHT_CODE_MAX).data() as Float32Array;
      }),
    );
    for (let k = 0; k < w.length; k++) expect(got[k]).toBe(Math.fround(codes[k]! * scales[Math.floor(k / 20)]!));
  });

  it('passes gradients straight through, and none where an activation is clipped', () => {
    tidy(() => {
      const w = tensor(Float32Array.of(0.3, -1, 0.01, 0.5), [2, 2]);
      w.requiresGrad = true;
      fakeQuantWeights(w, weightScales(w, WEIGHT_CODE_MAX), WEIGHT_CODE_MAX).mul(tensor(Float32Array.of(1, 2, 3, 4), [2, 2])).sum().backward();
      expect([...(w.grad!.data() as Float32Array)]).toEqual([1, 2, 3, 4]);
      const x = tensor(Float32Array.of(-1, 0.5, 3));
      x.requiresGrad = true;
      // Grid of [0, 2.55]: -1 and 3 fall outside and are clipped.
      const y = fakeQuantActivation(x, { scale: Math.fround(0.01), zeroPoint: -128 });
      expect([...(y.data() as Float32Array)].map((v) => Number(v.toFixed(5)))).toEqual([0, 0.5, 2.55]);
      y.sum().backward();
      expect([...(x.grad!.data() as Float32Array)]).toEqual([0, 1, 0]);
    });
  });

  it('computes, in float, what the int8 reference computes: the same codes at every value, the same scores', () => {
    const model = tinyModel();
    // Logits spread over many steps, so that the comparison can see a difference.
    noGrad(() => model.fc.weight.mul_(20));
    const graph = modelGraph(model, [1, 8, 8]);
    const count = 24;
    const images = rawImages(graph, count, 5);
    const quantized = quantizeGraph(graph, { images, count, shape: [1, 8, 8] }, { method: 'minmax' });
    const values = quantized.quant!.values;
    const fq = fakeQuantModel(model, [1, 8, 8], values, WEIGHT_CODE_MAX, 'test');
    const reference = Array.from({ length: count }, (_, n) => runInt8Values(quantized, quantizeInput(quantized, images.subarray(n * 64, (n + 1) * 64))));
    const seen: string[] = [];
    const floats = noGrad(() =>
      tidy(() =>
        fq.forward(tensor(images, [count, 1, 8, 8]), (name, t) => {
          seen.push(name);
          const f = t.data() as Float32Array;
          const per = f.length / count;
          const { scale, zeroPoint } = values[name]!;
          let equal = 0;
          for (let i = 0; i < f.length; i++) {
            const diff = Math.abs(f[i]! / scale + zeroPoint - reference[Math.floor(i / per)]!.get(name)![i % per]!);
            // Float accumulation may put a value a hair's breadth across a rounding boundary: one code, rarely.
            expect(diff, name).toBeLessThan(1.01);
            if (diff < 0.01) equal++;
          }
          expect(equal / f.length, name).toBeGreaterThan(0.999);
        }).data() as Float32Array,
      ),
    );
    expect(seen).toEqual([GRAPH_INPUT, ...graph.nodes.map((n) => n.output)]);
    const int8 = runInt8(quantized, images, count);
    for (let n = 0; n < count; n++) {
      const a = floats.subarray(n * 5, n * 5 + 5);
      const b = int8.scores.subarray(n * 5, n * 5 + 5);
      for (let k = 0; k < 5; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThanOrEqual(int8.scale * 1.001);
      expect(argmax(a)).toBe(argmax(b));
    }
    // The recorded grids give the same int8 model as calibration did.
    const ranges: RecordedRanges = { format: 'dst-quant-ranges', version: 1, calibration: { method: 'minmax', images: count, data: 'test' }, weightCodeMax: WEIGHT_CODE_MAX, values };
    expect(runInt8(quantizeWithRecorded(graph, ranges, 'ranges.json'), images, count).q).toEqual(int8.q);
    expect(() => quantizeWithRecorded(graph, { ...ranges, values: { ...values, extra: values.fc! } }, 'r.json')).toThrow(/^r\.json: names value 'extra'/);
    model.dispose();
  });

  it('shares the model\'s parameters and state-dict keys, and follows its weights', () => {
    const model = tinyModel();
    const graph = modelGraph(model, [1, 8, 8]);
    const images = rawImages(graph, 4, 1);
    const values = quantizeGraph(graph, { images, count: 4, shape: [1, 8, 8] }, { method: 'minmax' }).quant!.values;
    const fq = fakeQuantModel(model, [1, 8, 8], values, WEIGHT_CODE_MAX, 'test');
    expect([...fq.stateDict().keys()]).toEqual([...model.stateDict().keys()]);
    expect(fq.parameters()).toEqual(model.parameters());
    fq.train();
    expect(model.training && model.bn1.training).toBe(true);
    const x = tensor(images, [4, 1, 8, 8]);
    const before = noGrad(() => fq.forward(x).data() as Float32Array);
    noGrad(() => model.fc.bias!.add_(1));
    const after = noGrad(() => fq.forward(x).data() as Float32Array);
    expect(after[0]).not.toBe(before[0]);
    // Training mode changes nothing: BatchNorm statistics are frozen, read, never updated.
    const mean = model.bn1.runningMean.data() as Float32Array;
    noGrad(() => fq.forward(x));
    expect(model.bn1.runningMean.data()).toEqual(mean);
    expect(() => fakeQuantModel(model, [1, 8, 8], { ...values, fc: undefined! }, WEIGHT_CODE_MAX, 'r.json')).toThrow(/^r\.json: has no int8 scale and zero point for value 'fc'/);
    x.dispose();
    model.dispose();
  });
});
