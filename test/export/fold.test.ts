import { describe, expect, it } from 'vitest';
import { lowerTrace } from '../../src/export/fold.js';
import type { ConvNode } from '../../src/export/ir.js';
import { runGraph } from '../../src/export/run-graph.js';
import { traceModel, UnsupportedOpError } from '../../src/export/trace.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../src/nn/layers.js';
import { Module } from '../../src/nn/module.js';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { modelWithStats, relErr } from './models.js';

function randomStats(bn: BatchNorm2d): void {
  noGrad(() =>
    tidy(() => {
      const c = bn.numFeatures;
      bn.runningMean.copy_(randn([c]));
      bn.runningVar.copy_(randn([c]).abs().add(0.1));
      bn.weight.copy_(randn([c]));
      bn.bias.copy_(randn([c]));
    }),
  );
}

function forward(model: Module, x: Float32Array, shape: number[]): Float32Array {
  return noGrad(() => tidy(() => model.forward(tensor(x, shape)).data() as Float32Array));
}

class Doubling extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(3, 4, 3));
  readonly head = this.registerModule('head', new Linear(4, 2));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.conv.forward(x.mul(2)).mean([2, 3]));
  }
}

describe('BatchNorm folding and fusion', () => {
  it('folds BN into the conv exactly: W·s, b·s + shift, and fuses the ReLU', () => {
    manualSeed(3);
    const conv = new Conv2d(3, 5, 3, { padding: 1 });
    const bn = new BatchNorm2d(5, { eps: 1e-3 });
    randomStats(bn);
    const model = new Sequential(conv, bn, new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(5, 4)).eval();
    const graph = lowerTrace(traceModel(model, [3, 6, 6]));
    expect(graph.nodes.map((n) => n.op)).toEqual(['conv', 'globalavgpool', 'flatten', 'linear']);
    const folded = graph.nodes[0] as ConvNode;
    expect(folded.name).toBe('0');
    expect(folded.relu).toBe(true);
    const [w, b, mean, variance, gamma, beta] = [conv.weight, conv.bias!, bn.runningMean, bn.runningVar, bn.weight, bn.bias].map((t) => t.data() as Float32Array);
    for (let o = 0; o < 5; o++) {
      const s = gamma![o]! / Math.sqrt(variance![o]! + 1e-3);
      expect(folded.bias![o]).toBeCloseTo(b![o]! * s + beta![o]! - mean![o]! * s, 5);
      for (let k = 0; k < 27; k++) expect(folded.weight[o * 27 + k]).toBeCloseTo(w![o * 27 + k]! * s, 6);
    }
    const x = tidy(() => randn([2 * 3 * 36]).data() as Float32Array);
    expect(relErr(runGraph(graph, x, 2), forward(model, x, [2, 3, 6, 6]))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('resnet20: every BN folded, every ReLU fused into a conv or a residual add', () => {
    const model = modelWithStats('resnet20');
    const graph = lowerTrace(traceModel(model, [3, 16, 16]));
    const ops = graph.nodes.map((n) => n.op);
    expect(ops.filter((op) => op === 'relu')).toEqual([]);
    expect(ops.filter((op) => op === 'conv')).toHaveLength(21);
    expect(graph.nodes.filter((n) => n.op === 'add').every((n) => n.op === 'add' && n.relu)).toBe(true);
    expect(graph.nodes.find((n) => n.name === 'layer2.0.downsample.0')?.op).toBe('conv');
    model.dispose();
  });

  it('wrn16_2: a pre-activation BN after a residual add becomes a depthwise 1x1 conv with the ReLU fused; after the stem conv it folds', () => {
    const model = modelWithStats('wrn16_2');
    const graph = lowerTrace(traceModel(model, [3, 16, 16]));
    const bn = graph.nodes.find((n) => n.name === 'block1.layer.1.bn1') as ConvNode;
    expect(bn.op).toBe('conv');
    expect(bn.groups).toBe(32);
    expect(bn.weightShape).toEqual([32, 1, 1, 1]);
    expect(graph.nodes.some((n) => n.name === 'block1.layer.0.bn1')).toBe(false);
    expect(bn.relu).toBe(true);
    model.dispose();
  });

  it('drops dropout: aconvnet has no trace of it', () => {
    const model = modelWithStats('aconvnet');
    const graph = lowerTrace(traceModel(model, [1, 88, 88]));
    expect(graph.nodes.map((n) => n.op)).toEqual(['conv', 'maxpool', 'conv', 'maxpool', 'conv', 'maxpool', 'conv', 'conv', 'flatten']);
    expect(model.training).toBe(false);
    model.dispose();
  });

  it('names the op and the layer it cannot export', () => {
    const doubling = new Doubling();
    expect(() => traceModel(doubling, [3, 8, 8])).toThrow(UnsupportedOpError);
    expect(() => traceModel(doubling, [3, 8, 8])).toThrow(/op 'conv2d' in layer 'conv' \(Conv2d\).*does not trace/);
    const ceil = new Sequential(new MaxPool2d(2, { ceilMode: true }), new Flatten());
    expect(() => traceModel(ceil, [1, 5, 5])).toThrow("cannot export op 'maxPool2d' in layer '0' (MaxPool2d): ceil mode is not supported");
    doubling.dispose();
  });

  it('leaves a training model in training mode and its forward untouched', () => {
    const model = modelWithStats('resnet8x4').train();
    traceModel(model, [3, 16, 16]);
    expect(model.training).toBe(true);
    expect(Object.hasOwn(model, 'forward')).toBe(false);
    model.dispose();
  });
});

class ConstantAdd extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(1, 2, 3));
  forward(x: Tensor): Tensor {
    return this.conv.weight.sum().add(this.conv.forward(x)).flatten(1);
  }
}

describe('constants in activations', () => {
  it('refuses adding a constant to an activation, naming the layer', () => {
    const model = new ConstantAdd();
    expect(() => traceModel(model, [1, 4, 4])).toThrow("cannot export op 'add' in layer '(root)' (ConstantAdd): adding an activation to a constant tensor is not supported");
    model.dispose();
  });
});
