import { describe, expect, it } from 'vitest';
import { lowerTrace } from '../../src/export/fold.js';
import { runGraph } from '../../src/export/run-graph.js';
import { traceModel } from '../../src/export/trace.js';
import { modelNames } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/torch/index.js';
import { inputOf, modelWithStats, relErr } from './models.js';

describe('tracing the zoo', () => {
  for (const name of modelNames()) {
    it(`${name}: folded graph matches LibTorch eval`, () => {
      manualSeed(1);
      const model = modelWithStats(name);
      const input = inputOf(name);
      try {
        const traced = traceModel(model, input);
        const graph = lowerTrace(traced);
        expect(graph.nodes.some((n) => (n.op as string) === 'batchnorm')).toBe(false);
        const x = tidy(() => randn([1, ...input]).data() as Float32Array);
        const want = noGrad(() => tidy(() => model.forward(tensor(x, [1, ...input])).data() as Float32Array));
        const got = runGraph(graph, x);
        expect(relErr(got, want)).toBeLessThan(1e-4);
      } finally {
        model.dispose();
      }
    });
  }
});
