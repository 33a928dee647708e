import { describe, expect, it } from 'vitest';
import type { ConvNode, Graph } from '../../src/export/ir.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { activationParams, addRequant, quantizeLayer, quantizeWeights } from '../../src/quant/params.js';
import { oddities, pruned, resnet20 } from '../engine/graphs.js';
import { calibrationSet, logitsOnly } from './graphs.js';

const small = () => pruned(resnet20(1, 8, 8), { kind: 'uhp', n: 2, m: 4, block: 4 });

describe('activation parameters', () => {
  it('widen the range to 0 and map it onto -128..127', () => {
    expect(activationParams(0, 2.55, 'v')).toEqual({ scale: Math.fround(0.01), zeroPoint: -128 });
    expect(activationParams(0.5, 2.55, 'v').zeroPoint).toBe(-128);
    const { scale, zeroPoint } = activationParams(-1, 1.55, 'v');
    expect(scale).toBe(Math.fround(0.01));
    expect(zeroPoint).toBe(-28);
    expect(activationParams(-2.55, -1, 'v').zeroPoint).toBe(127);
  });

  it('an all-zero value gets scale 1 and still represents 0 exactly', () => {
    expect(activationParams(0, 0, 'v')).toEqual({ scale: 1, zeroPoint: -128 });
  });

  it('refuses a non-finite range naming the value', () => {
    expect(() => activationParams(-Infinity, 1, 'conv3')).toThrow(/^conv3: calibration range/);
    expect(() => activationParams(0, NaN, 'conv3')).toThrow(/^conv3: /);
  });
});

describe('weights and bias', () => {
  it('quantize per output channel, symmetric, keeping every zero', () => {
    const w = Float32Array.of(0, 1.27, -0.635, 0, 0, 0, 0.2, -0.1);
    const { weight, scales } = quantizeWeights(w, 2);
    expect([...scales]).toEqual([Math.fround(0.01), Math.fround(0.2 / 127)]);
    expect([...weight]).toEqual([0, 127, -64, 0, 0, 0, 127, -64]);
  });

  it('UHP zeros of a pruned graph stay zero, and no int8 weight is -128', () => {
    for (const node of small().nodes) {
      if (node.op !== 'conv' && node.op !== 'linear') continue;
      const { weight } = quantizeWeights(node.weight, node.weightShape[0]);
      expect(node.weight.filter((v, i) => v === 0 && weight[i] !== 0).length).toBe(0);
      expect(Math.min(...weight)).toBeGreaterThanOrEqual(-127);
    }
  });

  const conv = (bias: number, weight = 1): ConvNode => ({
    op: 'conv', name: 'stem', input: 'input', output: 'stem', weight: Float32Array.of(weight), weightShape: [1, 1, 1, 1], bias: Float32Array.of(bias),
    stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, relu: false, pattern: { kind: 'dense' },
  });

  it('bias is int32 in units of s_in * s_w, requantization s_in * s_w / s_out', () => {
    const layer = quantizeLayer(conv(0.3), { scale: 0.5, zeroPoint: 0 }, { scale: 0.25, zeroPoint: 0 });
    const sw = Math.fround(1 / 127);
    expect(layer.bias[0]).toBe(Math.round(0.3 / (0.5 * sw)));
    expect(layer.mult[0]! / 2 ** layer.shift[0]!).toBeCloseTo((0.5 * sw) / 0.25, 12);
  });

  it('refuses, naming the layer, a bias beyond int32 and a multiplier out of range', () => {
    expect(() => quantizeLayer(conv(1e6), { scale: 1e-9, zeroPoint: 0 }, { scale: 1, zeroPoint: 0 })).toThrow(/^stem: bias of output channel 0 .* beyond int32/);
    expect(() => quantizeLayer(conv(0), { scale: 1, zeroPoint: 0 }, { scale: 1e-12, zeroPoint: 0 })).toThrow(/^stem: requantization multiplier .* does not fit/);
    expect(() => addRequant({ scale: 1, zeroPoint: 0 }, { scale: 1e-12, zeroPoint: 0 }, { scale: 1, zeroPoint: 0 }, 'add7')).toThrow(/^add7: requantization multiplier/);
  });
});

describe('quantizeGraph', () => {
  it('annotates every value; pass-through ops share their input q; adds get three requant pairs', () => {
    const graph = logitsOnly(oddities(3));
    const q = quantizeGraph(graph, calibrationSet(graph, 8, 1), { method: 'minmax' });
    const quant = q.quant!;
    expect(Object.keys(quant.values).sort()).toEqual(['input', ...graph.nodes.map((n) => n.output)].sort());
    for (const node of graph.nodes) {
      if (['relu', 'maxpool', 'avgpool', 'globalavgpool', 'flatten'].includes(node.op)) expect(quant.values[node.output]).toEqual(quant.values[(node as { input: string }).input]);
      if (node.op === 'conv' || node.op === 'linear') expect(quant.layers[node.name]!.weight.length).toBe(node.weight.length);
      if (node.op === 'add') expect(quant.adds[node.name]!.flat().length).toBe(6);
    }
    // The float graph is untouched: float consumers still run it.
    expect(q.nodes).toBe(graph.nodes);
  });

  it('the logits keep their whole calibrated range under every method', () => {
    const graph = small();
    const set = calibrationSet(graph, 8, 1);
    const minmax = quantizeGraph(graph, set, { method: 'minmax' }).quant!.values[graph.output];
    expect(quantizeGraph(graph, set, { method: 'percentile', percentile: 90 }).quant!.values[graph.output]).toEqual(minmax);
    expect(quantizeGraph(graph, set, { method: 'mse' }).quant!.values[graph.output]).toEqual(minmax);
  });

  it('refuses softmax naming the layer, and a graph quantized already', () => {
    const graph = oddities(3);
    const last = graph.nodes.at(-1)!.name;
    expect(() => quantizeGraph(graph, calibrationSet(graph, 2, 1), { method: 'minmax' })).toThrow(new RegExp(`^${last}: softmax cannot run in int8`));
    const plain = logitsOnly(graph);
    const q = quantizeGraph(plain, calibrationSet(plain, 2, 1), { method: 'minmax' });
    expect(() => quantizeGraph(q, calibrationSet(plain, 2, 1), { method: 'minmax' })).toThrow(/already quantized/);
  });

  it('refuses calibration data of another shape or class count, naming the option', () => {
    const graph: Graph = small();
    const set = calibrationSet(graph, 2, 1);
    expect(() => quantizeGraph(graph, { ...set, shape: [3, 9, 8] }, { method: 'minmax', label: '--calibration-data' })).toThrow(/^--calibration-data: images are 3x9x8 after preprocessing, the model takes 3x8x8$/);
    expect(() => quantizeGraph(graph, { ...set, classes: 7 }, { method: 'minmax', label: '--calibration-data' })).toThrow(/^--calibration-data: the data has 7 classes, the model outputs 10 scores$/);
    expect(() => quantizeGraph(graph, { ...set, count: 3 }, { method: 'minmax' })).toThrow(/^calibration: .* do not hold 3 images/);
    expect(() => quantizeGraph(graph, set, { method: 'percentile', percentile: 30 })).toThrow(/^calibration percentile: expected a number in \(50, 100\]/);
  });
});
