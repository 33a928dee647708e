/**
 * Layer plan of the C back end: the kernel path and input geometry of every
 * conv/linear (the same choices as native/engine/engine.c, so the generated
 * C computes what the engine computes), and the placement of every value
 * and scratch buffer in one static arena.
 */
import { DstError } from '../../errors.js';
import { inferShapes } from '../uhp-shapes.js';
import { groupsPerChannel } from '../uhp-pattern.js';
import { GRAPH_INPUT, nodeInputs, type AddNode, type ConvNode, type Graph, type GraphNode, type LinearNode, type PoolNode, type Shape, type Shape3 } from '../ir.js';

export type Path = 'dense16' | 'sparse16' | 'sparse8' | 'gather8' | 'csr' | 'depthwise' | 'grouped';

/** A conv or linear viewed as the engine sees it: NHWC input, linear as a 1x1 conv on a 1x1 image. */
export interface ConvPlan {
  node: ConvNode | LinearNode;
  path: Path;
  c: number; h: number; w: number;
  o: number; cg: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number;
  oh: number; ow: number;
  /** Width of the input rows the kernels read: the stored width when the input's zero border covers the padding, else the padded copy's. */
  wp: number;
  hp: number;
  /** The padding is more than the input's border: the input is copied into a zero-bordered buffer first. */
  copyPad: boolean;
  /** Read in place: floats from the input's storage to the window of output pixel 0. */
  inShift: number;
  /** Floats per output row as stored: more than ow * o when the output keeps a zero border. */
  yRow: number;
  /** UHP groups run across taps (Cg not a multiple of M): a group's inputs are not contiguous. */
  flat: boolean;
  /** im2col row length (flat-grouped gather8 layers); 0 without im2col. */
  kpad: number;
  /** Output rows expanded per im2col pass: a whole image of rows would cost more RAM than the activations. */
  colRows: number;
  /** Output channels per kernel call, and calls. */
  ob: number;
  nblocks: number;
}

/* Floats of one im2col pass (16 KiB): enough rows to amortise the kernel calls. */
const COL_BUDGET = 4096;

const SUPPORTED: ReadonlySet<string> = new Set(['conv', 'linear', 'relu', 'add', 'maxpool', 'avgpool', 'globalavgpool', 'flatten', 'softmax']);

/** Throws naming the first node the C back end cannot generate; run before shape inference, which assumes known ops. */
export function checkSupported(graph: Graph): void {
  for (const node of graph.nodes) {
    const op = (node as { op: string }).op;
    if (!SUPPORTED.has(op)) {
      throw new DstError('E_UNSUPPORTED', `layer '${node.name}': op '${op}' is not supported by the C back end (it has ${[...SUPPORTED].join(', ')})`);
    }
  }
}

function choosePath(node: ConvNode | LinearNode, groups: number, cg: number, o: number): Path {
  if (groups > 1) return cg === 1 && o === groups ? 'depthwise' : 'grouped';
  const p = node.pattern;
  if (p.kind === 'unstructured') return 'csr';
  if (p.kind === 'dense') return 'dense16';
  if (p.block % 16 === 0) return 'sparse16';
  if (p.block % 8 === 0) return 'sparse8';
  return 'gather8';
}

/** Rows and columns of zeros kept around a stored value, so the convs that read it pad in place instead of copying. */
export type Border = readonly [number, number];
const NO_BORDER: Border = [0, 0];

export function planConv(node: ConvNode | LinearNode, input: Shape, inBorder: Border = NO_BORDER, outBorder: Border = NO_BORDER): ConvPlan {
  const [c, h, w] = input.length === 3 ? input : [input[0], 1, 1];
  const conv = node.op === 'conv' ? node : null;
  const [o, cg] = node.weightShape;
  const [kh, kw] = conv ? [conv.weightShape[2], conv.weightShape[3]] : [1, 1];
  const [sh, sw] = conv ? conv.stride : [1, 1];
  const [ph, pw] = conv ? conv.padding : [0, 0];
  const [dh, dw] = conv ? conv.dilation : [1, 1];
  const groups = conv ? conv.groups : 1;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const path = choosePath(node, groups, cg, o);
  const p = node.pattern;
  const flat = p.kind === 'uhp' && cg % p.m !== 0;
  // gather8 reads a group's M inputs as one vector, which flat groups only are in an im2col row; sparse paths read each entry at its own offset.
  const im2col = flat && path === 'gather8';
  const kpad = im2col && p.kind === 'uhp' ? groupsPerChannel({ outChannels: o, inPerGroup: cg, taps: kh * kw }, p.m) * p.m : 0;
  const ob = path === 'depthwise' || path === 'grouped' ? o : path === 'sparse8' || path === 'gather8' ? 8 : 16;
  const [bh, bw] = inBorder;
  const copyPad = ph > bh || pw > bw;
  const wp = copyPad ? w + 2 * pw : w + 2 * bw;
  return {
    node, path, c, h, w, o, cg, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow, flat,
    wp, hp: h + 2 * ph, copyPad, inShift: copyPad ? 0 : ((bh - ph) * wp + (bw - pw)) * c, yRow: (ow + 2 * outBorder[1]) * o,
    kpad, colRows: kpad > 0 ? Math.min(oh, Math.max(1, Math.floor(COL_BUDGET / (ow * kpad)))) : 0,
    ob, nblocks: Math.ceil(o / ob),
  };
}

/** Where a buffer sits in the arena, in floats. */
export interface Placement {
  offset: number;
  floats: number;
}

/**
 * A conv whose output only an unpadded pooling reads: the pair runs in bands
 * of pooled rows, as the engine's conv_pool does, and the conv's `out` holds
 * one band of conv rows instead of the whole output.
 */
export interface Band {
  pool: PoolNode;
  poolShape: Shape;
  /** Where the pooling writes: the pool node's own `out`. */
  poolOut: Placement;
  pooledRows: number;
  /** Conv rows one band needs: the windows of `pooledRows` pooled rows. */
  convRows: number;
}

export interface NodePlan {
  node: GraphNode;
  inShapes: Shape[];
  outShape: Shape;
  conv: ConvPlan | null;
  out: Placement;
  ins: Placement[];
  pad: Placement | null;
  col: Placement | null;
  /** Set on a banded conv. */
  band: Band | null;
  /** Set on a conv whose stores add this residual, as the add after it would; `out` is then the add's output. */
  res: Placement | null;
  /** Relu after the residual (the add's), or the conv's own. */
  relu: boolean;
  /** A pooling the banded conv before it computes, or an add the conv before it does in its stores. */
  inConv: boolean;
  /** Zero borders around its first input and around the value it writes (a fused add's residual keeps the latter). */
  inBorder: Border;
  outBorder: Border;
}

export interface GraphPlan {
  inputShape: Shape;
  input: Placement;
  inputBorder: Border;
  nodes: NodePlan[];
  output: Placement;
  outputShape: Shape;
  arenaFloats: number;
}

/*
 * Bytes of conv output per band (the engine's single-thread figure): a
 * band stays in cache between the conv writing it and the pooling reading
 * it, and is a small fraction of the RAM the whole output would take.
 */
const BAND_BYTES = 16384;

type BandRows = Pick<Band, 'pool' | 'pooledRows' | 'convRows'>;

/** The band of node i: a conv whose output only the next node, an unpadded pooling, reads. */
function bandOf(graph: Graph, shapes: Map<string, Shape>, i: number): BandRows | null {
  const conv = graph.nodes[i];
  const pool = graph.nodes[i + 1];
  if (conv?.op !== 'conv' || (pool?.op !== 'maxpool' && pool?.op !== 'avgpool')) return null;
  if (pool.input !== conv.output || pool.padding[0] !== 0 || pool.padding[1] !== 0 || graph.output === conv.output) return null;
  if (graph.nodes.filter((n) => nodeInputs(n).includes(conv.output)).length !== 1) return null;
  const [c, , w] = shapes.get(conv.output) as Shape3;
  const [kh] = pool.kernel;
  const [sh] = pool.stride;
  const pooledRows = Math.min((shapes.get(pool.output) as Shape3)[1], Math.max(1, Math.floor(BAND_BYTES / (sh * w * c * 4))));
  return { pool, pooledRows, convRows: (pooledRows - 1) * sh + kh };
}

/**
 * The residual node i's stores add: node i is a conv or linear without relu
 * whose output only the next node, an add, reads (as the engine fuses it).
 */
function residualOf(graph: Graph, i: number): string | null {
  const conv = graph.nodes[i];
  const add = graph.nodes[i + 1];
  if ((conv?.op !== 'conv' && conv?.op !== 'linear') || conv.relu || add?.op !== 'add' || graph.output === conv.output) return null;
  const [a, b] = add.inputs;
  if ((a === conv.output) === (b === conv.output)) return null;
  if (graph.nodes.filter((n) => nodeInputs(n).includes(conv.output)).length !== 1) return null;
  return a === conv.output ? b : a;
}

/**
 * Zero borders, as the engine's plan_borders: a conv's output (or its fused
 * add's) and the graph input keep a border as wide as the largest padding of
 * the convs that read them, when only convs read them (global pooling and a
 * fused add's residual read around one). A fused add's residual and output
 * share a layout: both take the wider border, or none.
 */
function planBorders(graph: Graph, bands: (BandRows | null)[], residuals: (string | null)[], writtenBy: (i: number) => string): Map<string, Border> {
  const ok = new Set<string>([GRAPH_INPUT]);
  graph.nodes.forEach((node, i) => {
    if (node.op === 'conv' && bands[i] === null) ok.add(writtenBy(i));
  });
  ok.delete(graph.output);
  const border = new Map<string, [number, number]>();
  graph.nodes.forEach((node, j) => {
    if ((j > 0 && residuals[j - 1] !== null) || node.op === 'globalavgpool') return;
    for (const v of nodeInputs(node)) {
      if (node.op !== 'conv') ok.delete(v);
      else if (ok.has(v)) {
        const [bh, bw] = border.get(v) ?? [0, 0];
        border.set(v, [Math.max(bh, node.padding[0]), Math.max(bw, node.padding[1])]);
      }
    }
  });
  for (const v of border.keys()) if (!ok.has(v)) border.delete(v);
  // Borders only grow to the widest padding or drop to none for good, so this ends.
  for (let changed = true; changed;) {
    changed = false;
    residuals.forEach((res, i) => {
      if (res === null) return;
      const y = writtenBy(i);
      const a = border.get(res) ?? NO_BORDER, b = border.get(y) ?? NO_BORDER;
      if (a[0] === b[0] && a[1] === b[1]) return;
      if (ok.has(res) && ok.has(y)) {
        const both: [number, number] = [Math.max(a[0], b[0]), Math.max(a[1], b[1])];
        border.set(res, both), border.set(y, [...both]);
      } else {
        border.delete(res), border.delete(y), ok.delete(res), ok.delete(y);
      }
      changed = true;
    });
  }
  return border;
}

/* 64-byte granules, as the engine's arena. */
const round16 = (n: number): number => Math.ceil(n / 16) * 16;
const count = (s: Shape): number => s.reduce((a, b) => a * b, 1);
/** Floats of a value stored with a zero border. */
const stored = (s: Shape, b: Border): number => (s.length === 3 ? s[0] * (s[1] + 2 * b[0]) * (s[2] + 2 * b[1]) : count(s));

interface Interval {
  first: number;
  last: number;
  floats: number;
  offset: number;
}

/** Lowest offset where `iv` overlaps no placed buffer that is alive at the same step. */
function place(iv: Interval, placed: Interval[]): void {
  const busy = placed.filter((p) => p.first <= iv.last && iv.first <= p.last).sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const p of busy) {
    if (at + iv.floats <= p.offset) break;
    at = Math.max(at, p.offset + p.floats);
  }
  iv.offset = at;
  placed.push(iv);
}

/**
 * Plans every node; a value lives from the step that writes it to the last
 * step that reads it (the graph output to the end), pad and im2col buffers
 * for their one step, and buffers alive at the same step never overlap. A
 * banded conv and its pooling count as one step: the conv's input, band and
 * scratch stay alive while the pooling writes. So do a conv and the add its
 * stores run: its input stays alive while it writes the add's output.
 */
export function planGraph(graph: Graph): GraphPlan {
  checkSupported(graph);
  const shapes = inferShapes(graph);
  const n = graph.nodes.length;
  const bands = graph.nodes.map((_, i) => bandOf(graph, shapes, i));
  const residuals = graph.nodes.map((_, i) => (bands[i] ? null : residualOf(graph, i)));
  const twoSteps = (i: number): boolean => bands[i] !== null || residuals[i] !== null;
  // A conv with a fused add writes the add's output (from its own step on); the add itself writes nothing.
  const writtenBy = (i: number): string => (residuals[i] !== null ? graph.nodes[i + 1]!.output : graph.nodes[i]!.output);
  const borders = planBorders(graph, bands, residuals, writtenBy);
  const borderOf = (v: string): Border => borders.get(v) ?? NO_BORDER;
  const convs = graph.nodes.map((node, i) =>
    node.op === 'conv' || node.op === 'linear' ? planConv(node, shapes.get(node.input) as Shape, borderOf(node.input), borderOf(writtenBy(i))) : null,
  );
  const lastRead = new Map<string, number>([[GRAPH_INPUT, -1]]);
  graph.nodes.forEach((node, i) => nodeInputs(node).forEach((v) => lastRead.set(v, twoSteps(i) ? i + 1 : i)));
  lastRead.set(graph.output, n);
  const placed: Interval[] = [];
  const values = new Map<string, Interval>();
  const define = (name: string, step: number, floats: number): void => {
    const iv = { first: step, last: Math.max(step, lastRead.get(name) ?? step), floats: round16(floats), offset: 0 };
    values.set(name, iv);
  };
  define(GRAPH_INPUT, -1, stored(shapes.get(GRAPH_INPUT) as Shape, borderOf(GRAPH_INPUT)));
  place(values.get(GRAPH_INPUT) as Interval, placed);
  const scratch: { pad: Interval | null; col: Interval | null }[] = [];
  graph.nodes.forEach((node, i) => {
    const band = bands[i];
    const out = shapes.get(node.output) as Shape;
    const written = writtenBy(i);
    if (i > 0 && residuals[i - 1] !== null) {
      scratch.push({ pad: null, col: null });
      return;
    }
    // A banded conv's output is a conv, so rank 3.
    define(written, i, band ? band.convRows * (out as Shape3)[2] * out[0] : stored(out, borderOf(written)));
    if (written !== node.output) values.set(node.output, values.get(written) as Interval);
    const last = twoSteps(i) ? i + 1 : i;
    let pad: Interval | null = null;
    let col: Interval | null = null;
    const cp = convs[i];
    if (cp) {
      if (cp.copyPad) pad = { first: i, last, floats: round16(cp.hp * cp.wp * cp.c), offset: 0 };
      if (cp.kpad > 0) col = { first: i, last, floats: round16(Math.min(cp.colRows, band?.convRows ?? cp.colRows) * cp.ow * cp.kpad), offset: 0 };
    }
    // Largest first within a step keeps the arena tighter.
    for (const iv of [values.get(written) as Interval, pad, col].filter((x): x is Interval => x !== null).sort((a, b) => b.floats - a.floats)) {
      place(iv, placed);
    }
    scratch.push({ pad, col });
  });
  const at = (iv: Interval): Placement => ({ offset: iv.offset, floats: iv.floats });
  const nodes = graph.nodes.map((node, i): NodePlan => {
    const inShapes = nodeInputs(node).map((v) => shapes.get(v) as Shape);
    const band = bands[i];
    const res = residuals[i];
    const inConv = i > 0 && twoSteps(i - 1);
    const written = writtenBy(i);
    return {
      node,
      inShapes,
      outShape: shapes.get(node.output) as Shape,
      conv: convs[i] ?? null,
      out: at(values.get(written) as Interval),
      ins: nodeInputs(node).map((v) => at(values.get(v) as Interval)),
      pad: scratch[i].pad ? at(scratch[i].pad as Interval) : null,
      col: scratch[i].col ? at(scratch[i].col as Interval) : null,
      band: band ? { ...band, poolShape: shapes.get(band.pool.output) as Shape, poolOut: at(values.get(band.pool.output) as Interval) } : null,
      res: res !== null ? at(values.get(res) as Interval) : null,
      relu: res !== null ? (graph.nodes[i + 1] as AddNode).relu : 'relu' in node && node.relu,
      inConv,
      inBorder: borderOf(nodeInputs(node)[0]!),
      outBorder: borderOf(written),
    };
  });
  return {
    inputShape: graph.inputShape,
    input: at(values.get(GRAPH_INPUT) as Interval),
    inputBorder: borderOf(GRAPH_INPUT),
    nodes,
    output: at(values.get(graph.output) as Interval),
    outputShape: shapes.get(graph.output) as Shape,
    arenaFloats: Math.max(16, ...placed.map((p) => p.offset + p.floats)),
  };
}
