/** Per-layer engine times of two models of one graph (engine dense against engine UHP), interleaved run by run. */
import type { Graph } from '../export/ir.js';
import type { LayerTime, Model } from '../runtime/model.js';

export interface LayerSide {
  kernel: string;
  /** Multiply-adds per image the kernel performs. */
  macs: number;
  /** Mean milliseconds per inference. */
  ms: number;
}

export interface LayerRow {
  name: string;
  op: string;
  /** Runs inside the bands of the convolution above it, which carries its time. */
  banded: boolean;
  dense: LayerSide;
  uhp: LayerSide;
}

export interface LayerProfileOptions {
  runs: number;
  warmup: number;
  batch: number;
}

function side(t: LayerTime, runs: number): LayerSide {
  return { kernel: t.kernel, macs: t.macs, ms: t.ms / runs };
}

/** Both models must come from `graph` (same nodes, same order): the engine reports layers by node index. */
export function profileLayers(graph: Graph, dense: Model, uhp: Model, input: Float32Array, options: LayerProfileOptions): LayerRow[] {
  for (let i = 0; i < options.warmup; i++) {
    dense.run(input, options.batch);
    uhp.run(input, options.batch);
  }
  dense.profile(true);
  uhp.profile(true);
  try {
    for (let i = 0; i < options.runs; i++) {
      dense.run(input, options.batch);
      uhp.run(input, options.batch);
    }
  } finally {
    dense.profile(false);
    uhp.profile(false);
  }
  const d = dense.layerTimes();
  const u = uhp.layerTimes();
  if (d.length !== graph.nodes.length || u.length !== graph.nodes.length) {
    throw new Error(`the engine planned ${d.length} and ${u.length} layers for a graph of ${graph.nodes.length} nodes`);
  }
  return graph.nodes.map((node, i) => ({
    name: node.name,
    op: node.op,
    banded: d[i]!.banded,
    dense: side(d[i]!, options.runs),
    uhp: side(u[i]!, options.runs),
  }));
}
