/**
 * `dst bench`: one model, five ways to run it, measured side by side in one
 * process (DESIGN §7): LibTorch dense, onnxruntime dense, and the engine
 * dense, unstructured-50% (CSR) and UHP.
 */
import { toOnnxModel } from '../export/onnx.js';
import type { Graph } from '../export/ir.js';
import { writeUhp } from '../export/uhp-writer.js';
import { DstError } from '../errors.js';
import { quantizeGraph } from '../quant/index.js';
import { loadModelBytes, type Model, type Schedule } from '../runtime/model.js';
import { formatPattern, type UhpPattern } from '../sparsity/pattern.js';
import { tidy } from '../torch/scope.js';
import { setNumThreads } from '../torch/threads.js';
import { noGrad, randn, tensor, type Tensor } from '../torch/tensor.js';
import { profileLayers, type LayerRow } from './layers.js';
import { measureRoundRobin, type Contender } from './measure.js';
import { pruneGraph } from './prune.js';

export interface BenchSubject {
  /** What LibTorch runs: the trained model in eval mode, or the compiled graph. */
  model: { forward(x: Tensor): Tensor };
  /** Bytes of the model file LibTorch loads; null when it runs the graph. */
  modelBytes: number | null;
  /** The exported graph with the model's own patterns (zeros where pruned). */
  graph: Graph;
  /** Node names of the model's conv and linear layers: what the pruned rows prune. */
  layers: ReadonlySet<string>;
}

export interface BenchOptions {
  batch: number;
  threads: number;
  /** Who runs an image on the engine rows when threads > 1 (see LoadOptions); 'pool' when absent. */
  schedule?: Schedule;
  runs: number;
  warmup?: number;
  /** Consecutive inferences per row before the next row's turn (see measure.ts). */
  turn: number;
  /** Also time every layer of engine dense and engine UHP (another `runs` inferences each, in turns). */
  layers?: boolean;
}

export interface BenchRow {
  name: string;
  /** Median latency of one batch. */
  ms: number;
  /** 90th-percentile latency of one batch. */
  p90Ms: number;
  speedupVsLibtorch: number;
  speedupVsOrt: number;
  bytes: number | null;
}

export interface BenchResult {
  batch: number;
  threads: number;
  /** The engine rows' schedule, as the engine reports it. */
  schedule: Schedule;
  runs: number;
  turn: number;
  rows: BenchRow[];
  /** The engine's kernel set. */
  engineIsa: string;
  /** How rows were derived where the model itself did not have what they need. */
  notes: string[];
  /** Per-layer median times of engine dense and engine UHP, when asked for. */
  layers?: LayerRow[];
}

/** The pattern the UHP row uses when the model is dense. */
export const BENCH_UHP: UhpPattern = { kind: 'uhp', n: 2, m: 4, block: 16 };

const noPreprocess = { cropFrom: null, mean: null, std: null };

/** The graph in float32 (an int8 file's quantization dropped) without preprocessing. */
function floatGraph(graph: Graph): Graph {
  const { quant: _int8, ...float } = graph;
  return { ...float, preprocess: noPreprocess };
}

function dense(graph: Graph): Graph {
  const float = floatGraph(graph);
  return { ...float, nodes: float.nodes.map((n) => (n.op === 'conv' || n.op === 'linear' ? { ...n, pattern: { kind: 'dense' as const } } : n)) };
}

/** Random network inputs the int8 rows calibrate on: their speed does not depend on the scales. */
const INT8_CALIBRATION_IMAGES = 8;

/** The int8 rows' graphs (dense, UHP), or why there are none. */
function int8Graphs(base: Graph, uhp: Graph): { graphs: [Graph, Graph] } | { refused: string } {
  const shape = base.inputShape;
  const per = shape.reduce((a, b) => a * b, 1);
  const images = tidy(() => randn([INT8_CALIBRATION_IMAGES * per]).data() as Float32Array);
  const calibration = { images, count: INT8_CALIBRATION_IMAGES, shape };
  try {
    return { graphs: [quantizeGraph(base, calibration, { method: 'minmax' }), quantizeGraph(uhp, calibration, { method: 'minmax' })] };
  } catch (err) {
    if (err instanceof DstError) return { refused: err.message };
    throw err;
  }
}

export async function benchModel(subject: BenchSubject, options: BenchOptions): Promise<BenchResult> {
  const { batch, threads, runs, turn, schedule = 'pool' } = options;
  const warmup = options.warmup ?? Math.min(runs, Math.max(10, Math.ceil(runs / 10)));
  const notes: string[] = [];
  const base = dense(subject.graph);
  const own = subject.graph.nodes.find((n) => (n.op === 'conv' || n.op === 'linear') && n.pattern.kind === 'uhp');
  let uhpGraph: Graph;
  if (own) {
    uhpGraph = floatGraph(subject.graph);
  } else {
    uhpGraph = pruneGraph(base, subject.layers, { kind: 'uhp', pattern: BENCH_UHP });
    notes.push(`the model has no UHP layers: the engine UHP row prunes it by magnitude to ${formatPattern(BENCH_UHP)} (speed only; accuracy is not kept)`);
  }
  notes.push('the unstructured row prunes each layer by magnitude to 50% and runs CSR');
  const csrGraph = pruneGraph(base, subject.layers, { kind: 'unstructured', sparsity: 0.5 });

  const perImage = subject.graph.inputShape.reduce((a, b) => a * b, 1);
  const input = tidy(() => randn([batch * perImage]).data() as Float32Array);
  const shape = [batch, ...subject.graph.inputShape];

  setNumThreads(threads);
  const ort = await import('onnxruntime-node');
  const onnx = toOnnxModel(base);
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, shape) };
  const int8 = int8Graphs(base, uhpGraph);
  if ('refused' in int8) notes.push(`no int8 rows: ${int8.refused}`);
  else notes.push(`the int8 rows quantize the dense and UHP graphs calibrated on ${INT8_CALIBRATION_IMAGES} random inputs (speed only; accuracy is not kept); onnxruntime int8 runs the QDQ model dst exports`);
  const onnxInt8 = 'graphs' in int8 ? toOnnxModel(int8.graphs[0]) : null;
  const sessionInt8 = onnxInt8
    ? await ort.InferenceSession.create(onnxInt8, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' })
    : null;

  const engines: { name: string; bytes: Uint8Array; model: Model }[] = [];
  const x: Tensor = tensor(input, shape);
  try {
    const int8Rows: [string, Graph][] = 'graphs' in int8 ? [['engine int8 dense', int8.graphs[0]], [`engine int8 UHP ${describeUhp(uhpGraph)}`, int8.graphs[1]]] : [];
    for (const [name, graph] of [
      ['engine dense', base],
      ['engine unstructured 50% (CSR)', csrGraph],
      [`engine UHP ${describeUhp(uhpGraph)}`, uhpGraph],
      ...int8Rows,
    ] as [string, Graph][]) {
      const bytes = writeUhp(graph);
      engines.push({ name, bytes, model: loadModelBytes(bytes, name, { threads, schedule }) });
    }
    const model = subject.model;
    const contenders: Contender[] = [
      { name: 'LibTorch dense', run: () => noGrad(() => tidy(() => model.forward(x).data())) },
      { name: 'onnxruntime dense', run: () => session.run(feeds) },
      ...engines.map((e) => ({ name: e.name, run: () => e.model.run(input, batch) })),
      ...(sessionInt8 ? [{ name: 'onnxruntime int8 (QDQ)', run: () => sessionInt8.run({ [sessionInt8.inputNames[0]!]: feeds[session.inputNames[0]!]! }) }] : []),
    ];
    const latency = await measureRoundRobin(contenders, { runs, warmup, turn });
    const ms = latency.map((l) => l.ms);
    const sizes = [subject.modelBytes, onnx.length, ...engines.map((e) => e.bytes.length), ...(onnxInt8 ? [onnxInt8.length] : [])];
    const rows = contenders.map((c, i) => ({
      name: c.name,
      ms: ms[i]!,
      p90Ms: latency[i]!.p90,
      speedupVsLibtorch: ms[0]! / ms[i]!,
      speedupVsOrt: ms[1]! / ms[i]!,
      bytes: sizes[i]!,
    }));
    const layers = options.layers ? profileLayers(uhpGraph, engines[0]!.model, engines[2]!.model, input, { runs, warmup, batch, turn }) : undefined;
    const engine = engines[0]!.model;
    return { batch, threads, schedule: engine.schedule, runs, turn, rows, engineIsa: engine.isa, notes, ...(layers ? { layers } : {}) };
  } finally {
    x.dispose();
    for (const e of engines) e.model.dispose();
    await session.release();
    await sessionInt8?.release();
  }
}

function describeUhp(graph: Graph): string {
  const node = graph.nodes.find((n) => (n.op === 'conv' || n.op === 'linear') && n.pattern.kind === 'uhp');
  const p = node && (node.op === 'conv' || node.op === 'linear') ? node.pattern : null;
  return p?.kind === 'uhp' ? formatPattern({ kind: 'uhp', n: p.n, m: p.m, block: p.block }) : '';
}
