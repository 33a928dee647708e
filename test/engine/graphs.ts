/** Hand-built test graphs (ResNet-20-like, A-ConvNets-like, odd-op coverage), magnitude pruning, and a float64 reference. */
import type { ConvNode, Graph, GraphNode, LinearNode, SparsityPattern } from '../../src/export/ir.js';
import { uhpGeometry, uhpPosition } from '../../src/sparsity/uhp-geometry.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dense: SparsityPattern = { kind: 'dense' };

export class Builder {
  nodes: GraphNode[] = [];
  private n = 0;
  constructor(private rand: () => number) {}
  private name(op: string): string {
    return `${op}${this.n++}`;
  }
  private randn(len: number, scale: number): Float32Array {
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = (this.rand() * 2 - 1) * scale;
    return a;
  }
  conv(input: string, cin: number, cout: number, k: number | [number, number], opts: Partial<Pick<ConvNode, 'stride' | 'padding' | 'dilation' | 'groups' | 'relu'>> = {}): string {
    const [kh, kw] = typeof k === 'number' ? [k, k] : k;
    const groups = opts.groups ?? 1;
    const name = this.name('conv');
    const fan = (cin / groups) * kh * kw;
    this.nodes.push({
      op: 'conv', name, input, output: name,
      weight: this.randn(cout * (cin / groups) * kh * kw, Math.sqrt(3 / fan)),
      weightShape: [cout, cin / groups, kh, kw],
      bias: this.randn(cout, 0.1),
      stride: opts.stride ?? [1, 1], padding: opts.padding ?? [0, 0], dilation: opts.dilation ?? [1, 1],
      groups, relu: opts.relu ?? false, pattern: dense,
    });
    return name;
  }
  linear(input: string, i: number, o: number, relu = false): string {
    const name = this.name('fc');
    this.nodes.push({ op: 'linear', name, input, output: name, weight: this.randn(o * i, Math.sqrt(3 / i)), weightShape: [o, i], bias: this.randn(o, 0.1), relu, pattern: dense });
    return name;
  }
  add(a: string, b: string, relu = true): string {
    const name = this.name('add');
    this.nodes.push({ op: 'add', name, inputs: [a, b], output: name, relu });
    return name;
  }
  simple(op: 'relu' | 'globalavgpool' | 'flatten' | 'softmax', input: string): string {
    const name = this.name(op);
    this.nodes.push({ op, name, input, output: name });
    return name;
  }
  pool(op: 'maxpool' | 'avgpool', input: string, k: number, s: number, p = 0): string {
    const name = this.name(op);
    this.nodes.push({ op, name, input, output: name, kernel: [k, k], stride: [s, s], padding: [p, p] });
    return name;
  }
}

/** ResNet-20 for CIFAR (3 stages x 3 basic blocks, 16/32/64 channels, 1x1 strided downsample convs), 10 classes; `base` narrows it for quick tests. */
export function resnet20(seed = 1, size = 32, base = 16): Graph {
  const b = new Builder(rng(seed));
  let x = b.conv('input', 3, base, 3, { padding: [1, 1], relu: true });
  let c = base;
  for (const [stage, width] of [base, 2 * base, 4 * base].entries()) {
    for (let i = 0; i < 3; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      const h = b.conv(x, c, width, 3, { stride: [stride, stride], padding: [1, 1], relu: true });
      const y = b.conv(h, width, width, 3, { padding: [1, 1] });
      const short = stride !== 1 || c !== width ? b.conv(x, c, width, 1, { stride: [stride, stride] }) : x;
      x = b.add(y, short, true);
      c = width;
    }
  }
  const logits = b.linear(b.simple('flatten', b.simple('globalavgpool', x)), 4 * base, 10);
  return { inputShape: [3, size, size], preprocess: { cropFrom: null, mean: null, std: null }, nodes: b.nodes, output: logits };
}

/** A-ConvNets (Chen et al. 2016) for 88x88 SAR chips, 10 classes, all-convolutional. */
export function aconvnet(seed = 2): Graph {
  const b = new Builder(rng(seed));
  let x = b.pool('maxpool', b.conv('input', 1, 16, 5, { relu: true }), 2, 2);
  x = b.pool('maxpool', b.conv(x, 16, 32, 5, { relu: true }), 2, 2);
  x = b.pool('maxpool', b.conv(x, 32, 64, 6, { relu: true }), 2, 2);
  x = b.conv(x, 64, 128, 5, { relu: true });
  const logits = b.simple('flatten', b.conv(x, 128, 10, 3));
  return { inputShape: [1, 88, 88], preprocess: { cropFrom: null, mean: null, std: null }, nodes: b.nodes, output: logits };
}

/** Every other op and geometry: crop + normalise, depthwise, grouped, dilation, rectangular kernels, residual adds, avg pools, odd channel counts, softmax. */
export function oddities(seed = 3): Graph {
  const b = new Builder(rng(seed));
  let x = b.conv('input', 3, 24, 3, { padding: [1, 1], relu: true });
  x = b.conv(x, 24, 24, 3, { padding: [1, 1], groups: 24, relu: true });
  const y = b.conv(x, 24, 20, [3, 1], { padding: [2, 0], dilation: [2, 1], stride: [1, 2] });
  x = b.conv(x, 24, 20, [1, 2], { stride: [1, 2] });
  x = b.add(b.conv(x, 20, 20, 1), y, false);
  x = b.simple('relu', x);
  // Adds the engine runs in the stores of the conv before them: grouped (its output second), depthwise (with relu).
  const r = b.conv(x, 20, 12, 1);
  const g = b.add(r, b.conv(x, 20, 12, 3, { groups: 4, padding: [1, 1] }), false);
  x = b.add(b.conv(g, 12, 12, 3, { groups: 12, padding: [1, 1] }), g, true);
  x = b.pool('avgpool', x, 3, 2, 1);
  x = b.pool('maxpool', x, 3, 1, 1);
  x = b.conv(x, 12, 40, 1, { relu: true });
  x = b.simple('flatten', b.pool('avgpool', x, 2, 2));
  x = b.linear(x, 40 * 2, 37, true);
  x = b.simple('softmax', b.linear(x, 37, 5));
  return { inputShape: [3, 7, 8], preprocess: { cropFrom: [10, 11], mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] }, nodes: b.nodes, output: x };
}

/** Geometries of the pixels-in-lanes (rows8) path: row counts over one tile, strides, 5x5 and 1x1 kernels, dilation, rows of one vector, partial channel blocks, a pool, input channels not a multiple of 8. */
export function rowsCases(seed = 4): Graph {
  const b = new Builder(rng(seed));
  let x = b.conv('input', 12, 16, 3, { padding: [1, 1], relu: true });
  x = b.conv(x, 16, 20, 3, { stride: [2, 2], padding: [1, 1], relu: true });
  x = b.pool('maxpool', b.conv(x, 20, 24, 5, { padding: [2, 2], relu: true }), 2, 2);
  x = b.conv(x, 24, 72, 1, { relu: true });
  x = b.conv(x, 72, 16, 1);
  x = b.conv(x, 16, 36, 3, { padding: [2, 2], dilation: [2, 2], relu: true });
  x = b.conv(x, 36, 24, 3, { padding: [1, 0] });
  x = b.conv(x, 24, 24, 3, { padding: [1, 1], groups: 2 });
  const logits = b.linear(b.simple('flatten', x), 24 * 7 * 8, 7);
  return { inputShape: [12, 27, 41], preprocess: { cropFrom: null, mean: null, std: null }, nodes: b.nodes, output: logits };
}

type Weighted = ConvNode | LinearNode;

/** Magnitude pruning to N:M with B output channels sharing a mask (DESIGN §4); the block's summed |w| picks the kept positions. */
export function pruneUhp(node: Weighted, n: number, m: number, block: number): void {
  const g = uhpGeometry(node.weightShape, m);
  const per = g.rowLength;
  const groups = g.groups;
  for (let o0 = 0; o0 < g.outChannels; o0 += block) {
    const o1 = Math.min(g.outChannels, o0 + block);
    for (let gi = 0; gi < groups; gi++) {
      const score: [number, number][] = [];
      for (let j = 0; j < m; j++) {
        const pos = uhpPosition(g, gi, j);
        let s = -1;
        if (pos >= 0) {
          s = 0;
          for (let o = o0; o < o1; o++) s += Math.abs(node.weight[o * per + pos]);
        }
        score.push([s, j]);
      }
      score.sort((a, b) => b[0] - a[0]);
      for (const [, j] of score.slice(n)) {
        const pos = uhpPosition(g, gi, j);
        if (pos >= 0) for (let o = o0; o < o1; o++) node.weight[o * per + pos] = 0;
      }
    }
  }
  node.pattern = { kind: 'uhp', n, m, block };
}

/** Keeps the largest `keep` fraction of each layer's weights, anywhere. */
export function pruneUnstructured(node: Weighted, keep: number): void {
  const sorted = Float32Array.from(node.weight, Math.abs).sort();
  const cut = sorted[Math.floor(sorted.length * (1 - keep))];
  for (let i = 0; i < node.weight.length; i++) if (Math.abs(node.weight[i]) < cut) node.weight[i] = 0;
  node.pattern = { kind: 'unstructured' };
}

export type PruneSpec = { kind: 'dense' } | { kind: 'uhp'; n: number; m: number; block: number } | { kind: 'unstructured' };

/** A pruned deep copy; depthwise/grouped convs are pruned too (the engine runs them dense). */
export function pruned(graph: Graph, spec: PruneSpec): Graph {
  const nodes = graph.nodes.map((node) =>
    node.op === 'conv' || node.op === 'linear' ? { ...node, weight: node.weight.slice() } : { ...node },
  ) as GraphNode[];
  for (const node of nodes) {
    if (node.op !== 'conv' && node.op !== 'linear') continue;
    if (spec.kind === 'uhp') pruneUhp(node, spec.n, spec.m, spec.block);
    else if (spec.kind === 'unstructured') pruneUnstructured(node, 0.5);
  }
  return { ...graph, nodes };
}

/** Straightforward CHW forward in float64: the yardstick for every engine path. */
export function reference(graph: Graph, input: Float32Array): Float64Array {
  const [C, H, W] = graph.inputShape;
  const pre = graph.preprocess;
  const [H0, W0] = pre.cropFrom ?? [H, W];
  const top = Math.floor((H0 - H) / 2), left = Math.floor((W0 - W) / 2);
  const x0 = new Float64Array(C * H * W);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++) {
        const v = input[(c * H0 + top + i) * W0 + left + j];
        x0[(c * H + i) * W + j] = (v - (pre.mean?.[c] ?? 0)) / (pre.std?.[c] ?? 1);
      }
  const vals = new Map<string, { d: Float64Array; s: number[] }>([['input', { d: x0, s: [C, H, W] }]]);
  for (const node of graph.nodes) {
    const inp = vals.get(node.op === 'add' ? node.inputs[0] : node.input)!;
    let out: { d: Float64Array; s: number[] };
    switch (node.op) {
      case 'conv': {
        const [c, h, w] = inp.s;
        const [o, cg, kh, kw] = node.weightShape;
        const [sh, sw] = node.stride, [ph, pw] = node.padding, [dh, dw] = node.dilation;
        const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1, ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
        const d = new Float64Array(o * oh * ow);
        const og = o / node.groups;
        for (let oc = 0; oc < o; oc++) {
          const g0 = Math.floor(oc / og) * cg;
          for (let y = 0; y < oh; y++)
            for (let xx = 0; xx < ow; xx++) {
              let acc = node.bias ? node.bias[oc] : 0;
              for (let ci = 0; ci < cg; ci++)
                for (let i = 0; i < kh; i++) {
                  const iy = y * sh - ph + i * dh;
                  if (iy < 0 || iy >= h) continue;
                  for (let j = 0; j < kw; j++) {
                    const ix = xx * sw - pw + j * dw;
                    if (ix < 0 || ix >= w) continue;
                    acc += node.weight[((oc * cg + ci) * kh + i) * kw + j] * inp.d[((g0 + ci) * h + iy) * w + ix];
                  }
                }
              d[(oc * oh + y) * ow + xx] = node.relu ? Math.max(0, acc) : acc;
            }
        }
        void c;
        out = { d, s: [o, oh, ow] };
        break;
      }
      case 'linear': {
        const [o, i] = node.weightShape;
        const d = new Float64Array(o);
        for (let r = 0; r < o; r++) {
          let acc = node.bias ? node.bias[r] : 0;
          for (let k = 0; k < i; k++) acc += node.weight[r * i + k] * inp.d[k];
          d[r] = node.relu ? Math.max(0, acc) : acc;
        }
        out = { d, s: [o] };
        break;
      }
      case 'relu':
        out = { d: inp.d.map((v) => Math.max(0, v)), s: inp.s };
        break;
      case 'add': {
        const b = vals.get(node.inputs[1])!;
        out = { d: inp.d.map((v, i) => (node.relu ? Math.max(0, v + b.d[i]) : v + b.d[i])), s: inp.s };
        break;
      }
      case 'maxpool':
      case 'avgpool': {
        const [c, h, w] = inp.s;
        const [kh, kw] = node.kernel, [sh, sw] = node.stride, [ph, pw] = node.padding;
        const oh = Math.floor((h + 2 * ph - kh) / sh) + 1, ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
        const d = new Float64Array(c * oh * ow);
        for (let ch = 0; ch < c; ch++)
          for (let y = 0; y < oh; y++)
            for (let xx = 0; xx < ow; xx++) {
              let acc = node.op === 'maxpool' ? -Infinity : 0;
              for (let i = 0; i < kh; i++)
                for (let j = 0; j < kw; j++) {
                  const iy = y * sh - ph + i, ix = xx * sw - pw + j;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  const v = inp.d[(ch * h + iy) * w + ix];
                  acc = node.op === 'maxpool' ? Math.max(acc, v) : acc + v;
                }
              d[(ch * oh + y) * ow + xx] = node.op === 'maxpool' ? acc : acc / (kh * kw);
            }
        out = { d, s: [c, oh, ow] };
        break;
      }
      case 'globalavgpool': {
        const [c, h, w] = inp.s;
        const d = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let i = 0; i < h * w; i++) acc += inp.d[ch * h * w + i];
          d[ch] = acc / (h * w);
        }
        out = { d, s: [c, 1, 1] };
        break;
      }
      case 'flatten':
        out = { d: inp.d, s: [inp.d.length] };
        break;
      case 'softmax': {
        const mx = Math.max(...inp.d);
        const e = inp.d.map((v) => Math.exp(v - mx));
        const sum = e.reduce((a, b) => a + b, 0);
        out = { d: e.map((v) => v / sum), s: inp.s };
        break;
      }
    }
    vals.set(node.output, out);
  }
  return vals.get(graph.output)!.d;
}

export function randomInput(len: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: len }, () => r() * 2 - 1);
}

/** max |a - b| divided by max |b|: the error measure of the issue (relative to the output scale). */
export function relError(a: Float32Array, b: Float64Array): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / (scale || 1);
}
