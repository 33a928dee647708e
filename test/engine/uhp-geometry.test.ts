/**
 * The engine's C geometry (native/engine/uhp_geometry.c, as its reader applies
 * it) and src/sparsity/uhp-geometry.ts form the same groups, position by
 * position, on every weighted layer of every zoo model and of the hand-built
 * test graphs. Group sizes rotate over the layers; the last test checks that
 * every kind of row met every group size.
 */
import { describe, expect, it } from 'vitest';
import { lowerTrace } from '../../src/export/fold.js';
import type { Graph, GraphNode } from '../../src/export/ir.js';
import { traceModel } from '../../src/export/trace.js';
import { writeUhp } from '../../src/export/uhp-writer.js';
import { createModel, modelNames } from '../../src/models/index.js';
import { nativeEngine } from '../../src/runtime/native.js';
import { applyMask } from '../../src/sparsity/apply.js';
import { uhpMask } from '../../src/sparsity/uhp.js';
import { uhpGeometry, uhpPositions, type UhpGeometry } from '../../src/sparsity/uhp-geometry.js';
import { inputOf } from '../export/models.js';
import { aconvnet, oddities, rowsCases } from './graphs.js';

const GROUP_SIZES = [2, 4, 8, 16];
const BLOCKS = [1, 3, 16];

/**
 * The graph with layer i pruned to M = GROUP_SIZES[(i + shift) mod 4], N = M/2:
 * four shifts give every layer every group size.
 */
function uhpGraph(graph: Graph, shift: number): Graph {
  let i = 0;
  const nodes = graph.nodes.map((node): GraphNode => {
    if (node.op !== 'conv' && node.op !== 'linear') return node;
    const m = GROUP_SIZES[(i + shift) % GROUP_SIZES.length]!;
    const pattern = { kind: 'uhp' as const, n: m / 2, m, block: BLOCKS[i++ % BLOCKS.length]! };
    const mask = uhpMask({ name: node.name, kind: node.op, shape: [...node.weightShape], data: node.weight }, pattern);
    return { ...node, weight: applyMask(node.weight, mask), pattern };
  });
  return { ...graph, nodes };
}

/** What kind of row a layer is, to show that the models cover every case. */
function rowKind(node: GraphNode & { op: 'conv' | 'linear' }, geo: UhpGeometry): string {
  if (node.op === 'linear') return `linear ${geo.grouping}`;
  if (geo.grouping === 'channel') return 'conv channel';
  return node.groups > 1 ? 'grouped conv flat' : `conv Cin=${geo.inPerGroup} flat`;
}

function zooGraph(name: string): Graph {
  const model = createModel(name, { inChannels: inputOf(name)[0] }).eval();
  try {
    return lowerTrace(traceModel(model, inputOf(name)));
  } finally {
    model.dispose();
  }
}

const seen = new Set<string>();

describe('UHP groups: the engine and the TypeScript geometry agree', () => {
  // A zoo model repeats its layer shapes, so one shift gives each shape several
  // group sizes and the models together give their first convs every one; the
  // small hand-built graphs hold the rarer rows (Cin = 1, depthwise, a linear
  // layer of 37 features) and run at every shift.
  const graphs: [string, () => Graph, number[]][] = [
    ...modelNames().map((name, index): [string, () => Graph, number[]] => [name, () => zooGraph(name), [index % GROUP_SIZES.length]]),
    ['A-ConvNets-like (Cin = 1)', () => aconvnet(), [0, 1, 2, 3]],
    ['oddities (depthwise, grouped, linear of 37 features)', () => oddities(), [0, 1, 2, 3]],
    ['rowsCases', () => rowsCases(), [0, 1, 2, 3]],
  ];
  for (const [name, build, shifts] of graphs) {
    it(name, () => {
      const graph = build();
      const engine = nativeEngine();
      for (const shift of shifts) {
        const pruned = uhpGraph(graph, shift);
        const handle = engine.load(writeUhp(pruned), 'scalar', 1);
        try {
          pruned.nodes.forEach((node, index) => {
            if ((node.op !== 'conv' && node.op !== 'linear') || node.pattern.kind !== 'uhp') return;
            const geo = uhpGeometry(node.weightShape, node.pattern.m);
            seen.add(`${rowKind(node, geo)} M=${geo.m}`);
            const label = `${name}: ${node.name} [${node.weightShape.join(', ')}] M=${geo.m}`;
            expect(engine.uhpPositions(handle, index), label).toEqual(uhpPositions(geo));
          });
        } finally {
          engine.dispose(handle);
        }
      }
    });
  }

  it('covered channel and flat convs, first convs with 1 and 3 channels, grouped convs and both linear groupings at every M', () => {
    const needed = ['conv channel', 'conv Cin=3 flat', 'conv Cin=1 flat', 'grouped conv flat', 'linear channel', 'linear flat'];
    const missing = needed.flatMap((kind) => GROUP_SIZES.map((m) => `${kind} M=${m}`)).filter((k) => !seen.has(k));
    expect(missing).toEqual([]);
  });
});
