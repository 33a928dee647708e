import { describe, expect, it } from 'vitest';
import { createModel, modelFacts, modelNames } from '../../src/models/index.js';
import { liveTensors, manualSeed, noGrad, randn, tidy } from '../../src/torch/index.js';

// Parameter counts published for these architectures (10 classes unless noted).
const publishedParams: Record<string, [number, number]> = {
  resnet20: [0.27e6, 0.28e6],
  resnet56: [0.85e6, 0.86e6],
  resnet110: [1.72e6, 1.74e6],
  wrn40_2: [2.24e6, 2.25e6],
  aconvnet: [0.29e6, 0.31e6],
};

describe('model zoo', () => {
  it('lists every model the design names', () => {
    expect(modelNames()).toEqual(
      expect.arrayContaining(['resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet8x4', 'resnet32x4', 'wrn16_2', 'wrn40_2', 'vgg8', 'vgg13', 'aconvnet', 'sar_resnet18']),
    );
  });

  for (const name of modelNames()) {
    it(`${name}: forward and backward at its input size give one logit row per image`, () => {
      const before = liveTensors();
      const model = createModel(name, { numClasses: 7 });
      const facts = modelFacts(name, { numClasses: 7 });
      tidy(() => {
        const out = model.forward(randn([2, ...facts.input]));
        expect(out.shape).toEqual([2, 7]);
        out.sum().backward();
        expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
      });
      model.dispose();
      expect(liveTensors()).toBe(before);
      const range = publishedParams[name];
      if (range) {
        const params = modelFacts(name).params;
        expect(params).toBeGreaterThanOrEqual(range[0]);
        expect(params).toBeLessThanOrEqual(range[1]);
      }
    });
  }

  it('counts resnet20 MACs at 32x32 as the literature does (~41M)', () => {
    const facts = modelFacts('resnet20');
    expect(facts.macs).toBeGreaterThan(40e6);
    expect(facts.macs).toBeLessThan(42e6);
  });

  it('builds the same weights from the same seed and accepts other channel counts', () => {
    manualSeed(5);
    const a = createModel('aconvnet');
    manualSeed(5);
    const b = createModel('aconvnet');
    expect(a.stateDict().get('conv3.weight')!.toArray()).toEqual(b.stateDict().get('conv3.weight')!.toArray());
    const rgb = createModel('resnet20', { inChannels: 1, numClasses: 100 });
    noGrad(() => tidy(() => expect(rgb.eval().forward(randn([1, 1, 32, 32])).shape).toEqual([1, 100])));
    for (const m of [a, b, rgb]) m.dispose();
  });

  it('rejects unknown names and bad options naming them', () => {
    expect(() => createModel('resnet21')).toThrow(/^model: unknown model 'resnet21'; known: resnet20/);
    expect(() => createModel('resnet20', { numClasses: 1 })).toThrow(/^numClasses:/);
    expect(() => createModel('resnet20', { inChannels: 0 })).toThrow(/^inChannels:/);
  });
});
