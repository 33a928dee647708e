/** Ops the run-time has: a graph with any other fails at export, naming the layer, not at link time. */
import { DstError } from '../../errors.js';
import type { Graph } from '../ir.js';

const SUPPORTED: ReadonlySet<string> = new Set(['conv', 'linear', 'relu', 'add', 'maxpool', 'avgpool', 'globalavgpool', 'flatten', 'softmax']);

/** Throws naming the first node the run-time cannot run. */
export function checkSupported(graph: Graph): void {
  for (const node of graph.nodes) {
    const op = (node as { op: string }).op;
    if (!SUPPORTED.has(op)) {
      throw new DstError('E_UNSUPPORTED', `layer '${node.name}': op '${op}' is not supported by the C back end (it has ${[...SUPPORTED].join(', ')})`);
    }
  }
}
