/**
 * Side-by-side latency measurement (DESIGN §7): rows take turns, so a load
 * spike on the machine hits all rows alike. A turn is `turn` consecutive
 * inferences of one row: a deployed model runs back to back with its weights
 * and activations in cache, while a turn of 1 runs every inference cold, just
 * after the other rows have evicted the caches (and then mostly times that).
 */
export interface Contender {
  name: string;
  /** One inference; may be async (onnxruntime's run is). */
  run(): unknown;
}

export interface MeasureOptions {
  /** Timed inferences per contender. */
  runs: number;
  /** Untimed inferences per contender first: caches, lazy allocation, thread start-up. */
  warmup: number;
  /** Consecutive inferences of one contender before the next takes over. */
  turn: number;
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value `q` (0..1) of the way up the sorted values, nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Latency {
  /** Median milliseconds of one inference. */
  ms: number;
  /** 90th percentile: what one inference in ten exceeds, the tail a real-time deadline has to cover. */
  p90: number;
}

/** Latency per contender, in the given order. */
export async function measureRoundRobin(contenders: readonly Contender[], options: MeasureOptions): Promise<Latency[]> {
  const times = contenders.map(() => [] as number[]);
  const total = options.warmup + options.runs;
  for (let done = 0; done < total; done += options.turn) {
    const count = Math.min(options.turn, total - done);
    for (let i = 0; i < contenders.length; i++) {
      for (let k = 0; k < count; k++) {
        const start = performance.now();
        const pending = contenders[i]!.run();
        if (pending instanceof Promise) await pending;
        const ms = performance.now() - start;
        if (done + k >= options.warmup) times[i]!.push(ms);
      }
    }
  }
  return times.map((t) => ({ ms: median(t), p90: quantile(t, 0.9) }));
}
