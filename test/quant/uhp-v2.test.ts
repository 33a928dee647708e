import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/export/ir.js';
import { readUhp } from '../../src/export/read-uhp.js';
import { UHP_HEADER_BYTES, writeUhp } from '../../src/export/uhp-writer.js';
import { quantizeGraph } from '../../src/quant/quantize.js';
import { runInt8 } from '../../src/quant/reference.js';
import { oddities, pruned, resnet20 } from '../engine/graphs.js';
import { calibrationSet, logitsOnly, rawImages } from './graphs.js';

const quantized = (graph: Graph): Graph => quantizeGraph(graph, calibrationSet(graph, 8, 3), { method: 'minmax' });

function headerOf(bytes: Uint8Array): { version: number; json: Record<string, unknown> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(UHP_HEADER_BYTES, UHP_HEADER_BYTES + view.getUint32(12, true))));
  return { version: view.getUint32(8, true), json };
}

/** The same JSON bytes with one substring replaced by another of the same length (offsets stay valid). */
function patched(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const text = new TextDecoder('latin1').decode(bytes);
  const at = text.indexOf(from);
  expect(at).toBeGreaterThan(0);
  const out = bytes.slice();
  out.set(new TextEncoder().encode(to), at);
  return out;
}

describe('.uhp version 2 (int8)', () => {
  const base = resnet20(1, 8, 8);
  const cases: [string, Graph][] = [
    ['dense, crop and normalise', logitsOnly(oddities(3))],
    ['uhp 2:4:4', pruned(base, { kind: 'uhp', n: 2, m: 4, block: 4 })],
    ['uhp 3:8:1', pruned(base, { kind: 'uhp', n: 3, m: 8, block: 1 })],
    ['unstructured', pruned(base, { kind: 'unstructured' })],
  ];
  for (const [label, graph] of cases) {
    it(`${label}: the int8 annotation comes back exactly and runs to the same integers`, () => {
      const q = quantized(graph);
      const bytes = writeUhp(q);
      const { version, json } = headerOf(bytes);
      expect(version).toBe(2);
      expect(json.version).toBe(2);
      expect(json.quant).toBe('int8');
      const back = readUhp(bytes, label);
      expect(back.quant!.values).toEqual(q.quant!.values);
      expect(back.quant!.adds).toEqual(q.quant!.adds);
      for (const [name, layer] of Object.entries(q.quant!.layers)) expect(back.quant!.layers[name]).toEqual(layer);
      expect(writeUhp(back)).toEqual(bytes);
      const images = rawImages(graph, 2, 5);
      expect(runInt8(back, images, 2).q).toEqual(runInt8(q, images, 2).q);
      // Float consumers get the dequantized weights.
      const node = back.nodes.find((n) => n.op === 'conv')!;
      const layer = q.quant!.layers[node.name]!;
      if (node.op === 'conv') expect(node.weight[1]).toBe(Math.fround(layer.weight[1]! * layer.scales[0]!));
    });
  }

  it('float graphs stay version 1', () => {
    const bytes = writeUhp(base);
    expect(headerOf(bytes).version).toBe(1);
    expect(headerOf(bytes).json.quant).toBeUndefined();
    expect(readUhp(bytes, 'f').quant).toBeUndefined();
  });

  it('a pruned layer stores int8 values in half the kept float bytes of version 1', () => {
    const graph = pruned(base, { kind: 'uhp', n: 2, m: 4, block: 4 });
    expect(writeUhp(quantized(graph)).length).toBeLessThan(0.45 * writeUhp(graph).length);
  });

  it('the writer refuses an annotation that breaks the rules, naming the layer', () => {
    const q = quantized(base);
    const conv = q.nodes.find((n) => n.op === 'conv')!.name;
    const broken = structuredClone(q);
    broken.quant!.layers[conv]!.mult[0] = 5;
    expect(() => writeUhp(broken)).toThrow(new RegExp(`^${conv}: output channel 0: multiplier 5 is outside \\[2\\^30, 2\\^31 - 1\\]$`));
    const relu = { ...q, nodes: [...q.nodes] };
    relu.nodes.push({ op: 'relu', name: 'late_relu', input: q.output, output: 'late_relu' });
    relu.output = 'late_relu';
    relu.quant = { ...q.quant!, values: { ...q.quant!.values, late_relu: { scale: 0.5, zeroPoint: 0 } } };
    expect(() => writeUhp(relu)).toThrow(/^late_relu: relu must keep its input's scale and zero point$/);
  });

  it('the reader refuses an unknown version and a bad int8 field with one line', () => {
    const bytes = writeUhp(quantized(base));
    const v3 = bytes.slice();
    new DataView(v3.buffer).setUint32(8, 3, true);
    expect(() => readUhp(v3, 'm.uhp')).toThrow(/^m\.uhp: format version 3; this dst reads versions 1 \(float\) and 2 \(int8\)$/);
    const broken = patched(bytes, '"zeroPoint":-128', '"zeroPoint": 128');
    expect(() => readUhp(broken, 'm.uhp')).toThrow(/^m\.uhp: \S+: zero point 128 is not an integer in -128\.\.127$/);
  });
});
