import { linearTicks, logTicks, type Ticks } from './ticks.js';

/** Maps data values onto one pixel range and knows its ticks. */
export interface Scale {
  ticks: Ticks;
  map(value: number): number;
}

export interface ScaleOptions {
  log?: boolean;
  /** Whole-number ticks (epochs). */
  integer?: boolean;
}

/** The finite values' extent, or undefined if there are none (or, for a log scale, no positive ones). */
export function extent(values: Iterable<number>, positiveOnly = false): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : undefined;
}

/** A scale over the data's extent, widened to nice ticks, onto [from, to] pixels (to < from for a y axis). */
export function makeScale(values: Iterable<number>, from: number, to: number, options: ScaleOptions = {}): Scale {
  const [lo, hi] = extent(values, options.log) ?? [NaN, NaN];
  if (options.log) {
    const ticks = logTicks(lo, hi);
    const l0 = Math.log10(ticks.min);
    const span = Math.log10(ticks.max) - l0;
    return { ticks, map: (v) => from + ((Math.log10(v) - l0) / span) * (to - from) };
  }
  const ticks = linearTicks(lo, hi, options);
  const span = ticks.max - ticks.min;
  return { ticks, map: (v) => from + ((v - ticks.min) / span) * (to - from) };
}
