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
import { planGraph } from '../../src/export/c/plan.js';
import type { ConvNode, Graph, GraphNode, Shape3 } from '../../src/export/ir.js';
import { availableIsas, type Isa } from '../../src/runtime/index.js';
import { aconvnet, pruned, randomInput, rng } from '../engine/graphs.js';
import { build, engineScores, has, inputSize, relDiff, runProgram, slug, specs, writeImage } from './helpers.js';

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

const floats = (s: Shape3): number => s[0] * s[1] * s[2];

describe('banded conv + pooling in the generated C', () => {
  it('A-ConvNets: every conv+maxpool is banded and the arena is smaller than the first conv output alone', () => {
    const plan = planGraph(aconvnet());
    const banded = plan.nodes.filter((np) => np.band);
    expect(banded.map((np) => np.node.name)).toEqual(['conv0', 'conv2', 'conv4']);
    for (const np of banded) {
      const [c, h, w] = np.outShape as Shape3;
      expect(np.band?.convRows, np.node.name).toBeLessThan(h);
      expect(np.out.floats, np.node.name).toBeLessThanOrEqual(Math.ceil(((np.band?.convRows ?? h) * w * c) / 16) * 16);
    }
    // Unbanded, the 16x84x84 output of the first conv (441 KiB) had to fit next to the 88x88 input.
    expect(plan.arenaFloats).toBeLessThan(floats(plan.nodes[0].outShape as Shape3));
  });

  it('bands overlap, skip rows, average, end short and nest im2col passes; a conv read twice is not banded', () => {
    const plan = planGraph(pruned(bandCases(), { kind: 'uhp', n: 2, m: 4, block: 1 }));
    const band = (name: string) => plan.nodes.find((np) => np.node.name === name)?.band;
    expect(band('a')).toMatchObject({ pooledRows: 1, convRows: 3 });
    expect(plan.nodes[0].col?.floats).toBeGreaterThan(0);
    expect(band('b')?.pool.op).toBe('avgpool');
    expect(band('c')).toMatchObject({ pooledRows: 3, convRows: 8 });
    expect(band('d')).toBeNull();
    expect(plan.nodes.filter((np) => np.inConv).map((np) => np.node.name)).toEqual(['overlap', 'avg', 'sparse']);
  });

  it('flat groups on the sparse paths read each kept input in place: no im2col buffer', () => {
    for (const block of [8, 16]) {
      const first = planGraph(pruned(bandCases(), { kind: 'uhp', n: 2, m: 4, block })).nodes[0];
      expect(first.conv).toMatchObject({ path: block === 8 ? 'sparse8' : 'sparse16', flat: true, kpad: 0 });
      expect(first.col).toBeNull();
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
