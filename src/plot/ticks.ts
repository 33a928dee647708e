/** Axis tick positions; `min` and `max` are the first and last tick, which bound the drawn domain. */
export interface Ticks {
  min: number;
  max: number;
  values: number[];
}

/** Renders a set of tick values as labels. */
export type TickFormat = (values: readonly number[]) => string[];

// Summing floating-point steps drifts (0.30000000000000004); twelve digits are far beyond what a label shows.
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/** 1, 2 or 5 times a power of ten, giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
}

/**
 * Ticks at a nice step covering [lo, hi], the domain widened to whole steps so
 * no data point sits beyond the last labelled value. A zero-width range (one
 * epoch, a constant series) is widened around its value.
 */
export function linearTicks(lo: number, hi: number, options: { target?: number; integer?: boolean } = {}): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1, values: [0, 1] };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    const pad = options.integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep(hi - lo, options.target);
  if (options.integer) step = Math.max(1, step);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let i = first; i <= last; i++) values.push(clean(i * step));
  return { min: values[0]!, max: values[values.length - 1]!, values };
}

/**
 * Ticks for a logarithmic axis over positive [lo, hi]: 1-2-5 steps within
 * each decade when the range spans at most two decades, powers of ten beyond.
 */
export function logTicks(lo: number, hi: number): Ticks {
  if (!(lo > 0) || !(hi > 0)) return { min: 1, max: 10, values: [1, 10] };
  if (lo > hi) [lo, hi] = [hi, lo];
  const e0 = Math.floor(Math.log10(lo) + 1e-9);
  const e1 = Math.max(Math.ceil(Math.log10(hi) - 1e-9), e0 + 1);
  const mantissas = e1 - e0 <= 2 ? [1, 2, 5] : [1];
  const all: number[] = [];
  for (let e = e0; e <= e1; e++) for (const m of mantissas) all.push(clean(m * 10 ** e));
  const min = all.filter((v) => v <= lo).pop() ?? all[0]!;
  const max = all.find((v) => v >= hi) ?? all[all.length - 1]!;
  return { min, max, values: all.filter((v) => v >= min && v <= max) };
}

/** Plain numbers with the fewest decimals that keep every label distinct and exact; tiny values in exponent form. */
export const decimalLabels: TickFormat = (values) => {
  const largest = Math.max(...values.map(Math.abs));
  if (largest > 0 && largest < 1e-3) return values.map((v) => (v === 0 ? '0' : clean(v).toExponential()));
  for (let digits = 0; digits < 12; digits++) {
    if (values.every((v) => Math.abs(Number(v.toFixed(digits)) - v) <= 1e-9 * Math.max(largest, 1))) return values.map((v) => v.toFixed(digits));
  }
  return values.map(String);
};

/** Counts with SI suffixes (20M, 1.5G), for MACs and weights. */
export const siLabels: TickFormat = (values) => values.map(siCount);

export function siCount(v: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of units) if (Math.abs(v) >= size) return `${clean(Number((v / size).toPrecision(3)))}${suffix}`;
  return String(clean(Number(v.toPrecision(3))));
}
