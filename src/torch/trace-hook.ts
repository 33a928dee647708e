import type { Tensor } from './tensor.js';

/**
 * Op-level graph capture (src/export/trace.ts). Ops call
 * `opTracer?.record(...)`: optional chaining skips the call and its argument
 * list entirely while nothing traces, so the hooks cost nothing in training.
 */
export interface OpTracer {
  /** Called after `op` ran: `output` may be an input (in-place ops), whose old value the tracer still holds. */
  record(op: string, output: Tensor, inputs: readonly (Tensor | number | null)[], attrs?: Readonly<Record<string, unknown>>): void;
}

export let opTracer: OpTracer | null = null;

/** Installs `tracer` and returns the one it replaces, so tracing nests. */
export function setOpTracer(tracer: OpTracer | null): OpTracer | null {
  const previous = opTracer;
  opTracer = tracer;
  return previous;
}
