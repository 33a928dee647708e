/**
 * Side-by-side latency measurement (DESIGN §7): rows are timed in turn, one
 * call each per round, so a load spike on the machine hits all rows alike.
 */
export interface Contender {
  name: string;
  /** One inference; may be async (onnxruntime's run is). */
  run(): unknown;
}

export interface MeasureOptions {
  runs: number;
  /** Untimed rounds first: caches, lazy allocation, thread start-up. */
  warmup: number;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds per contender, in the given order. */
export async function measureRoundRobin(contenders: readonly Contender[], options: MeasureOptions): Promise<number[]> {
  const times = contenders.map(() => [] as number[]);
  for (let round = 0; round < options.warmup + options.runs; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const start = performance.now();
      const pending = contenders[i]!.run();
      if (pending instanceof Promise) await pending;
      const ms = performance.now() - start;
      if (round >= options.warmup) times[i]!.push(ms);
    }
  }
  return times.map((t) => median(t.sort((a, b) => a - b)));
}
