/**
 * Zero borders in the generated C, as in the engine: a value only convs read
 * (or global pooling, or a fused add as its residual) keeps zeros around it
 * as wide as its readers' largest padding, so they read it in place instead
 * of padding a copy, which costs RAM on a microcontroller.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Graph } from '../../src/export/ir.js';
import { Builder, pruned, randomInput, resnet20, rng } from '../engine/graphs.js';
import { build, engineScores, inputSize, relDiff, runProgram, writeImage } from './helpers.js';
import { planView } from './plan-view.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-borders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a: read by a 5x5 (pad 2) and a 1x1 conv; wide: a 3x3 conv's input and a fused add's residual whose output a pooling reads; e: read by a conv and an unfused add. */
function mixed(): { graph: Graph; names: Record<string, string> } {
  const b = new Builder(rng(5));
  const a = b.conv('input', 4, 8, 3, { padding: [1, 1], relu: true });
  const wide = b.conv(a, 8, 8, 5, { padding: [2, 2], relu: true });
  const sum = b.add(b.conv(a, 8, 8, 1), wide, true);
  const e = b.pool('maxpool', sum, 2, 2);
  const f = b.conv(e, 8, 8, 3, { padding: [1, 1] });
  const side = b.conv(wide, 8, 8, 3, { padding: [1, 1] });
  const out = b.add(b.add(b.simple('relu', f), e, false), b.pool('avgpool', side, 2, 2), true);
  const graph: Graph = { inputShape: [4, 10, 9], preprocess: { cropFrom: [12, 11], mean: [0.1, 0.2, 0.3, 0.4], std: null }, nodes: b.nodes, output: b.simple('flatten', out) };
  return { graph, names: { a, wide, sum, e, f, side } };
}

describe('zero borders in the generated C', () => {
  it('ResNet-20 pads no copy: the input and every value a 3x3 conv reads keep a one-pixel border', () => {
    const graph = resnet20(1, 16);
    const v = planView(graph);
    expect(graph.nodes.filter((_, i) => v.step(i, 'pad'))).toEqual([]);
    expect(v.border('input')).toEqual([1, 1]);
    for (const node of graph.nodes) {
      if (node.op !== 'conv') continue;
      expect(v.border(node.input), node.name).toEqual([1, 1]);
    }
    // no conv reads the last block's output, but it shares its residual's border; global pooling reads around it
    const gap = graph.nodes.find((n) => n.op === 'globalavgpool')!;
    expect(v.border((gap as { input: string }).input)).toEqual([1, 1]);
  });

  it('borders as wide as the widest reader, none where another op reads, shared by a fused add', () => {
    const { graph, names } = mixed();
    const v = planView(graph);
    expect(v.border(names.a!)).toEqual([2, 2]);
    // the 1x1 conv's add runs in its stores and a pooling reads its output: its residual keeps no border either, though a conv reads it
    const fused = graph.nodes.findIndex((_, i) => v.step(i, 'add_next'));
    expect([v.plan.border[v.step(fused, 'out_value')], v.border(names.wide!)]).toEqual([[0, 0], [0, 0]]);
    const f = v.node(names.f!);
    expect([v.border(names.e!), v.step(f, 'pad')]).toEqual([[0, 0], 1]);
    expect(graph.nodes.filter((_, i) => v.step(i, 'pad')).map((n) => n.output)).toEqual([names.f, names.side]);
  });

  it('scores stay the engine\'s with borders, in place reads and a padded copy', async () => {
    const graph = pruned(mixed().graph, { kind: 'uhp', n: 2, m: 4, block: 1 });
    const d = await build(graph, path.join(dir, 'mixed'), 'generic');
    const x = randomInput(inputSize(graph), 8);
    const { scores } = await runProgram([path.join(d, 'build', 'generic', 'model')], await writeImage(path.join(d, 'in.raw'), x));
    expect(relDiff(scores, engineScores(graph, x, 'scalar'))).toBeLessThanOrEqual(1e-5);
  });
});
