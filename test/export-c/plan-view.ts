/** Reading the engine's plan for a C target (target-plan.ts) by the graph's names. */
import { targetPlan, type CTarget } from '../../src/export/c/index.js';
import type { Graph } from '../../src/export/ir.js';
import type { NativePlan } from '../../src/runtime/native.js';

export interface PlanView {
  plan: NativePlan;
  /** Step i's integer field. */
  step(i: number, field: string): number;
  /** Value id of a graph value name: 0 for the input, i + 1 for node i's output. */
  value(name: string): number;
  /** Index of the node writing `name`, or of the node called `name`. */
  node(name: string): number;
  border(name: string): [number, number];
}

export function planView(graph: Graph, target: CTarget = 'generic'): PlanView {
  const plan = targetPlan(graph, target);
  const value = (name: string): number => (name === 'input' ? 0 : graph.nodes.findIndex((n) => n.output === name) + 1);
  return {
    plan,
    step: (i, field) => plan.steps[i]![field] as number,
    value,
    node: (name) => {
      const byName = graph.nodes.findIndex((n) => n.name === name);
      return byName >= 0 ? byName : value(name) - 1;
    },
    border: (name) => plan.border[value(name)]!,
  };
}

/** The engine's kernel paths (plan.h's enum dst_path). */
export const PATH = { dense16: 1, sparse16: 2, sparse8: 3, gather8: 4, rows8: 5, csr: 6, depthwise: 7, grouped: 8 } as const;
