/** Per-layer engine times of two models of one graph (engine dense against engine UHP), taking turns as the rows of the bench do. */
import type { Graph } from '../export/ir.js';
import type { Model } from '../runtime/model.js';
import { median } from './measure.js';

export interface LayerSide {
  kernel: string;
  /** Multiply-adds per image the kernel performs. */
  macs: number;
  /** Median milliseconds per inference. */
  ms: number;
}

export interface LayerRow {
  name: string;
  op: string;
  /** Runs inside the convolution above it (a pooling in its bands, an add in its stores), which carries its time. */
  fused: boolean;
  dense: LayerSide;
  uhp: LayerSide;
}

export interface LayerProfileOptions {
  runs: number;
  warmup: number;
  batch: number;
  /** Consecutive inferences of one model before the other's. */
  turn: number;
}

/** Per node, the milliseconds of each run: the engine's running totals read after every run. */
class LayerSamples {
  private last: number[];
  private readonly samples: number[][];

  constructor(private readonly model: Model) {
    model.profile(true);
    this.last = model.layerTimes().map(() => 0);
    this.samples = this.last.map(() => []);
  }

  run(input: Float32Array, batch: number): void {
    this.model.run(input, batch);
    const now = this.model.layerTimes().map((l) => l.ms);
    now.forEach((ms, i) => this.samples[i]!.push(ms - this.last[i]!));
    this.last = now;
  }

  /** Medians per node: a preempted run inflates one layer of one run, not the layer's figure. */
  sides(): LayerSide[] {
    const layers = this.model.layerTimes();
    this.model.profile(false);
    return layers.map((l, i) => ({ kernel: l.kernel, macs: l.macs, ms: median(this.samples[i]!) }));
  }
}

/** Both models must come from `graph` (same nodes, same order): the engine reports layers by node index. */
export function profileLayers(graph: Graph, dense: Model, uhp: Model, input: Float32Array, options: LayerProfileOptions): LayerRow[] {
  for (let i = 0; i < options.warmup; i++) {
    dense.run(input, options.batch);
    uhp.run(input, options.batch);
  }
  const d = new LayerSamples(dense);
  const u = new LayerSamples(uhp);
  for (let done = 0; done < options.runs; done += options.turn) {
    const count = Math.min(options.turn, options.runs - done);
    for (let k = 0; k < count; k++) d.run(input, options.batch);
    for (let k = 0; k < count; k++) u.run(input, options.batch);
  }
  const fused = dense.layerTimes().map((l) => l.fused);
  const ds = d.sides();
  const us = u.sides();
  if (ds.length !== graph.nodes.length || us.length !== graph.nodes.length) {
    throw new Error(`the engine planned ${ds.length} and ${us.length} layers for a graph of ${graph.nodes.length} nodes`);
  }
  return graph.nodes.map((node, i) => ({ name: node.name, op: node.op, fused: fused[i]!, dense: ds[i]!, uhp: us[i]! }));
}
