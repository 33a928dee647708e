import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { lowerTrace } from '../../src/export/fold.js';
import { toOnnxModel } from '../../src/export/onnx.js';
import { traceModel } from '../../src/export/trace.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { loadModelBytes } from '../../src/runtime/index.js';
import { modelNames } from '../../src/models/index.js';
import * as F from '../../src/nn/functional.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { inputOf, modelWithStats, relErr } from './models.js';

describe('ONNX export', () => {
  for (const name of modelNames()) {
    it(`${name}: onnxruntime output matches LibTorch`, async () => {
      manualSeed(2);
      const model = modelWithStats(name);
      const input = inputOf(name);
      try {
        const graph = lowerTrace(traceModel(model, input));
        const bytes = toOnnxModel(graph);
        const x = tidy(() => randn([1, ...input]).data() as Float32Array);
        const want = noGrad(() => tidy(() => model.forward(tensor(x, [1, ...input])).data() as Float32Array));
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
        try {
          const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x, [1, ...input]) });
          const got = out[session.outputNames[0]!]!.data as Float32Array;
          expect(got.length).toBe(want.length);
          expect(relErr(got, want)).toBeLessThan(1e-4);
        } finally {
          await session.release();
        }
      } finally {
        model.dispose();
      }
    });
  }
});

class PoolSoftmax extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(2, 4, 3, { padding: 1, bias: false }));
  readonly fc = this.registerModule('fc', new Linear(16, 5));
  forward(x: Tensor): Tensor {
    const y = F.avgPool2d(F.maxPool2d(this.conv.forward(x), 3, { stride: 2, padding: 1 }), 2);
    return F.softmax(this.fc.forward(F.relu(y).reshape([x.shape[0]!, 16])), 1);
  }
}

describe('ONNX and .uhp export of the other operators', () => {
  it('max/average pooling with padding, reshape as flatten, linear, softmax', async () => {
    manualSeed(4);
    const model = new PoolSoftmax().eval();
    const graph = lowerTrace(traceModel(model, [2, 8, 8]));
    expect(graph.nodes.map((n) => n.op)).toEqual(['conv', 'maxpool', 'avgpool', 'relu', 'flatten', 'linear', 'softmax']);
    const x = tidy(() => randn([3 * 2 * 64]).data() as Float32Array);
    const want = noGrad(() => tidy(() => model.forward(tensor(x, [3, 2, 8, 8])).data() as Float32Array));
    const session = await ort.InferenceSession.create(toOnnxModel(graph));
    const out = await session.run({ input: new ort.Tensor('float32', x, [3, 2, 8, 8]) });
    await session.release();
    expect(relErr(out[session.outputNames[0]!]!.data as Float32Array, want)).toBeLessThan(1e-5);
    const engine = loadModelBytes(writeUhp(graph), 'pool-softmax');
    expect(relErr(engine.run(x, 3), want)).toBeLessThan(1e-5);
    engine.dispose();
    model.dispose();
  });
});
