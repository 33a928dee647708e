/**
 * Multiply-accumulate counting: while `countMacs` runs, conv2d and linear add
 * the MACs of each call. A closure keeps the cost at zero when not counting.
 */
let counter: { macs: number } | null = null;

export function recordMacs(macs: () => number): void {
  if (counter !== null) counter.macs += macs();
}

export function countMacs(fn: () => void): number {
  const outer = counter;
  counter = { macs: 0 };
  try {
    fn();
    return counter.macs;
  } finally {
    counter = outer;
  }
}
