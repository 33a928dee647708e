import { describe, expect, it } from 'vitest';
import { layerPatterns, modelGraph, preprocessOf } from '../../src/export/from-run.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import type { Tensor } from '../../src/torch/index.js';
import type { ModelFileInfo } from '../../src/train/model-file.js';
import { modelWithStats } from './models.js';

const info = (transforms: ModelFileInfo['transforms']): ModelFileInfo => ({
  model: 'aconvnet',
  classes: ['a', 'b'],
  inChannels: 1,
  input: [1, 88, 88],
  transforms,
  stats: { mean: [0.2], std: [0.1] },
});

/** Scales its conv output in place with an op the tracer does not record. */
class HiddenScale extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(1, 2, 3));
  readonly fc = this.registerModule('fc', new Linear(8, 2));
  forward(x: Tensor): Tensor {
    const y = this.conv.forward(x);
    y.mul_(3);
    return this.fc.forward(y.flatten(1));
  }
}

describe('export from a run', () => {
  it('takes the test pipeline into the .uhp preprocessing', () => {
    const pipeline: ModelFileInfo['transforms'] = [{ op: 'centerCrop', size: 88 }, { op: 'toFloat' }, { op: 'normalize' }];
    expect(preprocessOf(info(pipeline), [128, 128])).toEqual({ cropFrom: [128, 128], mean: [0.2], std: [0.1] });
    expect(preprocessOf(info(pipeline), null)).toEqual({ cropFrom: null, mean: [0.2], std: [0.1] });
    expect(preprocessOf(info([{ op: 'toFloat' }, { op: 'normalize', mean: [0.5], std: [0.25] }]), null)).toEqual({ cropFrom: null, mean: [0.5], std: [0.25] });
    expect(() => preprocessOf(info(pipeline), [64, 64])).toThrow('--crop-from: 64x64 is smaller than the 88x88 network input');
    // Without a centre crop in the pipeline the flag could not apply: refused, not ignored.
    expect(() => preprocessOf(info([{ op: 'toFloat' }]), [128, 128])).toThrow("--crop-from: the run's test pipeline has no centre crop, so images must arrive at the 88x88 network input; drop --crop-from");
    // The dataset's image size recorded in the model file embeds the crop without the flag; the flag wins.
    expect(preprocessOf({ ...info(pipeline), imageSize: [128, 128] }, null).cropFrom).toEqual([128, 128]);
    expect(preprocessOf({ ...info(pipeline), imageSize: [128, 128] }, [100, 100]).cropFrom).toEqual([100, 100]);
    expect(preprocessOf({ ...info(pipeline), imageSize: [88, 88] }, null).cropFrom).toBeNull();
    expect(() => preprocessOf(info([{ op: 'resize', size: 88 }]), null)).toThrow("test transform 'resize' cannot be part of an exported model");
  });

  it('gives the pattern to the masked layers only, or to every conv and linear layer without masks', () => {
    const model = modelWithStats('resnet20');
    const uhp = { kind: 'uhp', n: 2, m: 4, block: 16 } as const;
    expect(layerPatterns(model, new Set(), uhp).size).toBe(22);
    expect([...layerPatterns(model, new Set(['layer1.0.conv1']), uhp).keys()]).toEqual(['layer1.0.conv1']);
    expect(layerPatterns(model, new Set(), { kind: 'dense' }).size).toBe(0);
    expect(layerPatterns(model, new Set(), { kind: 'channel', sparsity: 0.5 }).get('fc')).toEqual({ kind: 'unstructured' });
    model.dispose();
  });

  it('refuses a graph that does not reproduce the model', () => {
    const model = new HiddenScale();
    expect(() => modelGraph(model, [1, 4, 4])).toThrow(/traced graph does not reproduce the model .*an operation the exporter does not trace/);
    model.dispose();
  });
});
