import { describe, expect, it } from 'vitest';
import { DstError, ShapeError } from '../../src/errors.js';
import { applyMask, computeMasks, srSteDecay } from '../../src/sparsity/index.js';
import { layerOf } from './reference.js';

const model = [
  layerOf('conv1', 'conv', [16, 3, 3, 3], 1),
  layerOf('layer1.0.conv1', 'conv', [16, 16, 3, 3], 2),
  layerOf('layer1.0.conv2', 'conv', [16, 16, 3, 3], 3),
  layerOf('fc', 'linear', [10, 16], 4),
];
const uhp = { kind: 'uhp', n: 2, m: 4, block: 1 } as const;

describe('computeMasks', () => {
  it('returns no mask for dense', () => {
    expect(computeMasks(model, { kind: 'dense' }).size).toBe(0);
  });

  it('masks every layer by default', () => {
    expect([...computeMasks(model, uhp).keys()]).toEqual(['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'fc']);
  });

  it('honours include and exclude names and globs', () => {
    expect([...computeMasks(model, uhp, { include: ['layer1.*'] }).keys()]).toEqual(['layer1.0.conv1', 'layer1.0.conv2']);
    expect([...computeMasks(model, uhp, { exclude: ['conv1', 'fc'] }).keys()]).toEqual(['layer1.0.conv1', 'layer1.0.conv2']);
    expect([...computeMasks(model, uhp, { include: ['layer1.?.conv*'], exclude: ['*conv2'] }).keys()]).toEqual([
      'layer1.0.conv1',
    ]);
  });

  it('rejects a name that matches no layer', () => {
    expect(() => computeMasks(model, uhp, { exclude: ['classifier'] })).toThrow(/^exclude: 'classifier' matches no layer$/);
    expect(() => computeMasks(model, uhp, { include: ['layer9.*'] })).toThrow(/^include: 'layer9\.\*' matches no layer$/);
  });

  it('rejects bad layers', () => {
    const nan = layerOf('bad', 'linear', [2, 4], 1);
    nan.data[3] = NaN;
    expect(() => computeMasks([nan], uhp)).toThrow(DstError);
    expect(() => computeMasks([{ ...model[3]!, shape: [10, 15] }], uhp)).toThrow(ShapeError);
    expect(() => computeMasks([{ ...model[3]!, shape: [10, 4, 4] }], uhp)).toThrow(/needs 2 positive dimensions/);
    expect(() => computeMasks([model[0]!, model[0]!], uhp)).toThrow(/appears twice/);
    expect(() => computeMasks(model, { kind: 'channel', sparsity: 0.5 }, { keepOverride: 2 })).toThrow(/uhp patterns only/);
    expect(() => computeMasks(model, { kind: 'uhp', n: 4, m: 4, block: 1 })).toThrow(/N must be/);
  });
});

describe('applyMask and srSteDecay', () => {
  const weights = Float32Array.from([1, -2, 3, -4]);
  const mask = Uint8Array.from([1, 0, 0, 1]);

  it('zero the pruned weights, and decay only them', () => {
    expect([...applyMask(weights, mask)]).toEqual([1, 0, 0, -4]);
    expect([...srSteDecay(weights, mask, 0.5)]).toEqual([0, -1, 1.5, 0]);
    const out = new Float32Array(4);
    expect(srSteDecay(weights, mask, 2, out)).toBe(out);
    expect(() => applyMask(weights, new Uint8Array(3))).toThrow(ShapeError);
  });
});
