import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/index.js';
import { F, weightLayers } from '../../src/nn/index.js';
import { checkUniformity, parsePattern, type UhpPattern } from '../../src/sparsity/index.js';
import { PruningController, installedMasks } from '../../src/sparsity/training.js';
import { loadModelFile, saveModelFile } from '../../src/train/model-file.js';
import { SGD, manualSeed, noGrad, randint, randn, tidy } from '../../src/torch/index.js';

const info = { model: 'resnet20', classes: Array.from({ length: 10 }, (_, i) => `c${i}`), inChannels: 3, input: [3, 16, 16] as [number, number, number], transforms: [], stats: { mean: [0], std: [1] } };

function uniformEverywhere(model: ReturnType<typeof createModel>, pattern: UhpPattern): void {
  for (const l of weightLayers(model)) {
    const w = l.module.weight.data() as Float32Array;
    const mask = l.module.weightMask!.data() as Float32Array;
    const report = checkUniformity(l.name, [...l.module.weight.shape], l.kind, Uint8Array.from(mask), pattern);
    expect(report.ok, `${l.name}: ${report.firstBad?.message}`).toBe(true);
    // Where the mask is 0 the stored weight is exactly 0 once masks are fixed.
    for (let i = 0; i < w.length; i++) if (mask[i] === 0 && w[i] !== 0) throw new Error(`${l.name}[${i}] is pruned but holds ${w[i]}`);
  }
}

function steps(model: ReturnType<typeof createModel>, controller: PruningController, count: number, opt: SGD, from = 0): void {
  for (let s = from; s < from + count; s++) {
    tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(model.forward(randn([8, 3, 16, 16])), randint(0, 10, [8])).backward();
      controller.beforeStep();
      opt.step();
    });
    controller.afterStep(s);
  }
}

describe('pruning during training', () => {
  for (const spec of ['uhp:2:4', 'uhp:2:4:16', 'uhp:4:8:8', 'uhp:1:4']) {
    it(`${spec}: every group holds exactly N after masks, training steps and save/load`, async () => {
      manualSeed(2);
      const pattern = parsePattern(spec) as UhpPattern;
      const model = createModel('resnet20');
      const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
      const controller = new PruningController(model, pattern, { gradualEpochs: 1, updateEvery: 2, straightThrough: true, srSteDecay: 2e-4 }, 4);
      controller.install();
      controller.start(0);
      expect(controller.sparsity()).toBeGreaterThan(0);
      steps(model, controller, 6, opt);
      expect(controller.fixed).toBe(true);
      uniformEverywhere(model, pattern);
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'dst-prune-')), 'model.safetensors');
      await saveModelFile(file, model, info);
      const { model: loaded } = await loadModelFile(file);
      uniformEverywhere(loaded, pattern);
      expect([...installedMasks(loaded)]).toEqual([...installedMasks(model)]);
      opt.dispose();
      model.dispose();
      loaded.dispose();
    });
  }

  it('keeps a pruned weight at zero in the forward pass even if the stored weight is not', () =>
    tidy(() => {
      manualSeed(3);
      const model = createModel('resnet20');
      const controller = new PruningController(model, parsePattern('uhp:2:4'), { gradualEpochs: 0, updateEvery: 1, straightThrough: false, srSteDecay: 0 }, 1);
      controller.install();
      controller.start(0);
      const conv = weightLayers(model)[1]!.module;
      const x = randn([2, 3, 16, 16]);
      model.eval();
      const before = model.forward(x).data() as Float32Array;
      // Write junk into pruned positions: the output must not change.
      const mask = conv.weightMask!;
      noGrad(() => conv.weight.add_(mask.neg().add(1).mul(100)));
      const after = model.forward(x).data() as Float32Array;
      expect(Array.from(after)).toEqual(Array.from(before));
      model.dispose();
    }));

  it('gives pruned weights their dense gradient only with straight-through', () =>
    tidy(() => {
      for (const ste of [true, false]) {
        manualSeed(4);
        const model = createModel('resnet20');
        const controller = new PruningController(model, parsePattern('uhp:2:4'), { gradualEpochs: 2, updateEvery: 1, straightThrough: ste, srSteDecay: 0 }, 10);
        controller.install();
        controller.start(0);
        controller.afterStep(4); // step 5 of a 20-step ramp: keep 3 of 4
        const conv = weightLayers(model)[2]!.module;
        F.crossEntropy(model.forward(randn([4, 3, 16, 16])), randint(0, 10, [4])).backward();
        const grad = conv.weight.grad!.data() as Float32Array;
        const mask = conv.weightMask!.data() as Float32Array;
        const prunedGrads = Array.from(grad).filter((_, i) => mask[i] === 0);
        expect(prunedGrads.length).toBeGreaterThan(0);
        expect(prunedGrads.some((g) => g !== 0)).toBe(ste);
        model.dispose();
      }
    }));

  it('ramps 3:4 -> 2:4 over the gradual epochs, masks still moving at 2:4, then fixes them', () => {
    manualSeed(5);
    const model = createModel('resnet20');
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const controller = new PruningController(model, parsePattern('uhp:2:4'), { gradualEpochs: 2, updateEvery: 1, straightThrough: true, srSteDecay: 0 }, 2);
    controller.install();
    controller.start(0);
    const seen = [controller.sparsity()];
    const fixed = [controller.fixed];
    for (let s = 0; s < 4; s++) {
      steps(model, controller, 1, opt, s);
      seen.push(controller.sparsity());
      fixed.push(controller.fixed);
    }
    // conv1 (Cin 3, flattened tail groups) makes the totals slightly below 25% / 50%.
    expect(seen[0]).toBeGreaterThan(0.24);
    expect(seen[0]).toBeLessThan(0.26);
    for (const s of seen.slice(2)) {
      expect(s).toBeGreaterThan(0.49);
      expect(s).toBeLessThanOrEqual(0.5);
    }
    expect(fixed).toEqual([false, false, false, false, true]);
    opt.dispose();
    model.dispose();
  });

  it('prunes exactly the requested fraction with unstructured and channel patterns', () => {
    manualSeed(6);
    for (const spec of ['unstructured:0.5', 'unstructured:0.5:global', 'channel:0.25']) {
      const model = createModel('resnet20');
      const controller = new PruningController(model, parsePattern(spec), { gradualEpochs: 0, updateEvery: 1, straightThrough: false, srSteDecay: 0 }, 1);
      controller.install();
      controller.start(0);
      expect(controller.sparsity()).toBeCloseTo(spec.startsWith('channel') ? 0.25 : 0.5, 2);
      model.dispose();
    }
  });

  it('names a bad include pattern', () => {
    const model = createModel('resnet20');
    expect(() => new PruningController(model, parsePattern('uhp:2:4'), { gradualEpochs: 0, updateEvery: 1, straightThrough: false, srSteDecay: 0, include: ['nope.*'] }, 1)).toThrow(/nope/);
    model.dispose();
  });
});
