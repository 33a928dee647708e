import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { lowerTrace } from '../../src/export/fold.js';
import { toOnnxModel } from '../../src/export/onnx.js';
import { traceModel } from '../../src/export/trace.js';
import { modelNames } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/torch/index.js';
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
