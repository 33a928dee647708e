/**
 * Trained models through the engine: resnet20 trained and pruned by the CLI,
 * exported with `dst export`, run on every kernel set against LibTorch on the
 * whole test split; then every zoo model, dense and magnitude-pruned to UHP
 * 2:4 with B=1 and B=16, against LibTorch eval.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerPatterns, withPatterns } from '../../src/export/from-run.js';
import { lowerTrace } from '../../src/export/fold.js';
import { traceModel } from '../../src/export/trace.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { modelNames } from '../../src/models/index.js';
import { weightLayers } from '../../src/nn/inspect.js';
import { availableIsas, loadModel, loadModelBytes, type Isa } from '../../src/runtime/index.js';
import type { UhpPattern } from '../../src/sparsity/pattern.js';
import { uhpMask } from '../../src/sparsity/uhp.js';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/torch/index.js';
import { inputOf, modelWithStats, relErr } from './models.js';
import { argmax, exportRun, libtorchLogits, testSplit, trainRuns } from './trained-runs.js';

const isas = availableIsas() as Isa[];
const work = mkdtempSync(path.join(tmpdir(), 'dst-trained-engine-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const runs = { dense: null, uhp16: 'uhp:2:4:16', uhp1: 'uhp:2:4' } as const;
const exported: Record<string, string> = {};

beforeAll(async () => {
  await trainRuns(work, { uhp16: runs.uhp16, uhp1: runs.uhp1 });
  for (const [name, pattern] of Object.entries(runs)) {
    const stdout = exportRun(path.join(work, name), path.join(work, `${name}.uhp`));
    // A pruned run must reach the engine as UHP, or the sparse kernels are never tested.
    if (pattern) expect(stdout).toContain(`${pattern} on 22 layers`);
    exported[name] = stdout;
  }
}, 120_000);

describe('trained resnet20 through `dst export` and the engine', () => {
  for (const name of Object.keys(runs)) {
    it(`${name}: every kernel set gives LibTorch's logits and top-1 on the whole test split`, async () => {
      const run = path.join(work, name);
      const split = await testSplit(run);
      const want = await libtorchLogits(run, split);
      const classes = want.length / split.count;
      for (const isa of isas) {
        const engine = await loadModel(path.join(work, `${name}.uhp`), { isa });
        let got: Float32Array;
        try {
          expect(engine.isa).toBe(isa);
          got = engine.run(split.engineInput, split.count);
        } finally {
          engine.dispose();
        }
        let worst = 0;
        for (let i = 0; i < split.count; i++) {
          const [g, w] = [got.subarray(i * classes, (i + 1) * classes), want.subarray(i * classes, (i + 1) * classes)];
          worst = Math.max(worst, relErr(g, w));
          expect(argmax(g), `${isa} image ${i}`).toBe(argmax(w));
        }
        expect(worst, isa).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});

/** Zeroes each conv and linear weight outside its magnitude UHP mask, in place. */
function pruneModel(model: ReturnType<typeof modelWithStats>, pattern: UhpPattern): void {
  noGrad(() =>
    tidy(() => {
      for (const layer of weightLayers(model)) {
        const w = layer.module.weight;
        const mask = uhpMask({ name: layer.name, kind: layer.kind, shape: [...w.shape], data: w.data() as Float32Array }, pattern);
        w.mul_(tensor(Float32Array.from(mask), [...w.shape]));
      }
    }),
  );
}

const zooPatterns: [string, UhpPattern | null][] = [
  ['dense', null],
  ['uhp 2:4 B1', { kind: 'uhp', n: 2, m: 4, block: 1 }],
  ['uhp 2:4 B16', { kind: 'uhp', n: 2, m: 4, block: 16 }],
];

describe('the zoo through the engine on every kernel set', () => {
  for (const name of modelNames()) {
    for (const [label, pattern] of zooPatterns) {
      it(`${name} ${label}: matches LibTorch eval within 1e-4`, () => {
        manualSeed(3);
        const model = modelWithStats(name);
        const input = inputOf(name);
        try {
          if (pattern) pruneModel(model, pattern);
          const graph = withPatterns(lowerTrace(traceModel(model, input)), layerPatterns(model, new Set(), pattern ?? { kind: 'dense' }));
          // Every conv and linear layer must reach the engine with the pattern, else a layer would silently test the dense path.
          const sparse = graph.nodes.filter((n) => (n.op === 'conv' || n.op === 'linear') && n.pattern.kind === 'uhp');
          expect(sparse.length).toBe(pattern ? weightLayers(model).length : 0);
          const bytes = writeUhp(graph);
          const x = tidy(() => randn([1, ...input]).data() as Float32Array);
          const want = noGrad(() => tidy(() => model.forward(tensor(x, [1, ...input])).data() as Float32Array));
          for (const isa of isas) {
            const engine = loadModelBytes(bytes, `${name}.uhp`, { isa });
            try {
              expect(relErr(engine.run(x), want), isa).toBeLessThanOrEqual(1e-4);
            } finally {
              engine.dispose();
            }
          }
        } finally {
          model.dispose();
        }
      });
    }
  }
});
