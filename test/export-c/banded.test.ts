/**
 * A conv whose output only a pooling reads runs with it in bands of pooled
 * rows: the arena holds a band of the conv output, never all of it, and the
 * scores stay the engine's. The graph covers the band edge cases: windows
 * that overlap (rows two bands share), a kernel shorter than its stride
 * (rows no band reads), average pooling, a last band shorter than the rest,
 * im2col passes inside a band (flat UHP groups under gather8; the sparse
 * paths read flat groups in place), and a conv read twice, which must not
 * be banded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CTarget } from '../../src/export/c/index.js';
import type { ConvNode, Graph, GraphNode, PoolNode } from '../../src/export/ir.js';
import { availableIsas, type Isa } from '../../src/runtime/index.js';
import { aconvnet, pruned, randomInput, rng } from '../engine/graphs.js';
import { build, engineScores, has, inputSize, relDiff, runProgram, slug, specs, writeImage } from './helpers.js';
import { PATH, planView } from './plan-view.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dst-c-band-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bandCases(): Graph {
  const r = rng(5);
  const nodes: GraphNode[] = [];
  const randn = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const conv = (name: string, input: string, cin: number, cout: number, k: number, pad: number): string => {
    const node: ConvNode = {
      op: 'conv', name, input, output: name,
      weight: randn(cout * cin * k * k, Math.sqrt(3 / (cin * k * k))), weightShape: [cout, cin, k, k], bias: randn(cout, 0.1),
      stride: [1, 1], padding: [pad, pad], dilation: [1, 1], groups: 1, relu: true, pattern: { kind: 'dense' },
    };
    nodes.push(node);
    return name;
  };
  const pool = (op: 'maxpool' | 'avgpool', name: string, input: string, k: number, s: number): string => {
    nodes.push({ op, name, input, output: name, kernel: [k, k], stride: [s, s], padding: [0, 0] });
    return name;
  };
  // 3 input channels under 3x3 make flat 2:4 groups; 3x3 windows at stride 2 share a conv row between bands.
  let x = pool('maxpool', 'overlap', conv('a', 'input', 3, 16, 3, 1), 3, 2);
  x = pool('avgpool', 'avg', conv('b', x, 16, 16, 3, 0), 2, 2);
  x = pool('maxpool', 'sparse', conv('c', x, 16, 24, 1, 0), 2, 3);
  const twice = conv('d', x, 24, 24, 1, 0);
  nodes.push({ op: 'add', name: 'sum', inputs: [twice, pool('maxpool', 'same', twice, 1, 1)], output: 'sum', relu: false });
  nodes.push({ op: 'flatten', name: 'flat', input: 'sum', output: 'flat' });
  nodes.push({ op: 'linear', name: 'fc', input: 'flat', output: 'fc', weight: randn(10 * 600, 0.04), weightShape: [10, 600], bias: randn(10, 0.1), relu: false, pattern: { kind: 'dense' } });
  return { inputShape: [3, 70, 66], preprocess: { cropFrom: null, mean: null, std: null }, nodes, output: 'fc' };
}

describe('banded conv + pooling in the generated C', () => {
  it('A-ConvNets on a microcontroller: every conv+maxpool is banded and the arena is smaller than the first conv output alone', () => {
    const graph = aconvnet();
    const v = planView(graph, 'cortex-m');
    const banded = graph.nodes.filter((_, i) => v.step(i, 'band_rows') > 0);
    expect(banded.map((n) => n.name)).toEqual(['conv0', 'conv2', 'conv4']);
    for (const node of banded) {
      const i = v.node(node.name), pool = graph.nodes[i + 1] as PoolNode;
      const convRows = (v.step(i, 'band_rows') - 1) * pool.stride[0] + pool.kernel[0];
      expect(convRows, node.name).toBeLessThan((v.plan.nodes[i]!.out_shape as { h: number }).h);
    }
    // Unbanded, the 16x84x84 output of the first conv (441 KiB) had to fit next to the 88x88 input.
    const first = v.plan.nodes[0]!.out_shape as { c: number; h: number; w: number };
    expect(v.plan.plan.arena_floats as number).toBeLessThan(first.c * first.h * first.w);
    // The host engine keeps whole outputs: its bands are for cache, not RAM.
    expect(graph.nodes.filter((_, i) => planView(graph).step(i, 'band_rows') > 0)).toEqual([]);
  });

  it('bands overlap, skip rows, average, end short and nest im2col passes; a conv read twice is not banded', () => {
    const graph = pruned(bandCases(), { kind: 'uhp', n: 2, m: 4, block: 1 });
    const v = planView(graph, 'cortex-m');
    const rows = (name: string) => v.step(v.node(name), 'band_rows');
    expect(rows('a')).toBe(1);
    expect(v.step(0, 'col_at')).toBeGreaterThanOrEqual(0);
    expect(graph.nodes[v.node('b') + 1]?.op).toBe('avgpool');
    expect(rows('b')).toBeGreaterThan(0);
    expect(rows('c')).toBe(3);
    expect(rows('d')).toBe(0);
    expect(graph.nodes.filter((_, i) => i > 0 && (v.step(i - 1, 'pool_next') || v.step(i - 1, 'add_next'))).map((n) => n.name)).toEqual(['overlap', 'avg', 'sparse']);
  });

  it('flat groups on the sparse paths read each kept input in place: no im2col buffer', () => {
    for (const block of [8, 16]) {
      const v = planView(pruned(bandCases(), { kind: 'uhp', n: 2, m: 4, block }), 'cortex-m');
      expect([v.step(0, 'path'), v.step(0, 'im2col'), v.step(0, 'kpad'), v.step(0, 'col_at')]).toEqual([block === 8 ? PATH.sparse8 : PATH.sparse16, 0, 0, -1]);
      expect(v.plan.nodes[0]!.flat).toBe(1);
    }
  });

  const avx2 = process.arch === 'x64' && availableIsas().includes('avx2');
  const neon = has('aarch64-linux-gnu-gcc') && has('qemu-aarch64');
  const targets: [CTarget, Isa, string[]][] = [
    ['generic', 'scalar', []],
    ...(avx2 ? [['avx2', 'avx2', []] as [CTarget, Isa, string[]]] : []),
    ...(neon ? [['neon', 'auto', ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']] as [CTarget, Isa, string[]]] : []),
  ];
  for (const [name, spec] of [...specs, ['uhp 2:4 B8', { kind: 'uhp', n: 2, m: 4, block: 8 }] as const]) {
    it(`${name}: the generated C gives the engine's scores (${targets.map((t) => t[0]).join(', ')})`, async () => {
      const graph = pruned(bandCases(), spec);
      const x = randomInput(inputSize(graph), 6);
      for (const [target, isa, launcher] of targets) {
        const d = await build(graph, path.join(dir, `${slug(name)}-${target}`), target);
        const { scores } = await runProgram([...launcher, path.join(d, 'build', target, 'model')], await writeImage(path.join(d, 'in.raw'), x));
        expect(relDiff(scores, engineScores(graph, x, isa)), target).toBeLessThanOrEqual(1e-5);
      }
    }, 120_000);
  }
});
