/**
 * N:M pattern geometry shared by the .uhp writer and its tests: how a layer's
 * weights are cut into groups and how a group's kept positions are numbered.
 */
import { ShapeError } from '../errors.js';

export type Grouping = 'channel' | 'flat';

/** Geometry of one conv or linear weight, viewed as [O][Cg][kh][kw] (linear: kh = kw = 1). */
export interface WeightGeometry {
  outChannels: number;
  inPerGroup: number;
  taps: number;
}

/**
 * Groups of M consecutive input channels at each tap when Cg is a multiple of
 * M; otherwise M consecutive entries of the flattened (c, kh, kw) axis,
 * padded at the end (DESIGN §4).
 */
export function groupingOf(geo: WeightGeometry, m: number): Grouping {
  return geo.inPerGroup % m === 0 ? 'channel' : 'flat';
}

/** Number of groups per output channel. */
export function groupsPerChannel(geo: WeightGeometry, m: number): number {
  return groupingOf(geo, m) === 'channel'
    ? geo.taps * (geo.inPerGroup / m)
    : Math.ceil((geo.inPerGroup * geo.taps) / m);
}

/**
 * Flat index into one output channel's [Cg][kh][kw] weights of position j of
 * group g, or -1 for a padding position. Channel groups run tap-major.
 */
export function groupPosition(geo: WeightGeometry, m: number, g: number, j: number): number {
  if (groupingOf(geo, m) === 'channel') {
    const perTap = geo.inPerGroup / m;
    const tap = Math.floor(g / perTap);
    const c = (g % perTap) * m + j;
    return c * geo.taps + tap;
  }
  const k = g * m + j;
  return k < geo.inPerGroup * geo.taps ? k : -1;
}

export function binomial(m: number, n: number): number {
  let r = 1;
  for (let i = 1; i <= n; i++) r = (r * (m - n + i)) / i;
  return Math.round(r);
}

/** Bits of one packed pattern index: ceil(log2(C(M,N))). */
export function patternBits(m: number, n: number): number {
  return Math.max(1, Math.ceil(Math.log2(binomial(m, n))));
}

/**
 * Maps each N-subset of {0..M-1}, as a bit mask, to its rank in lexicographic
 * order of the ascending position tuple (e.g. 2:4: {0,1}=0, {0,2}=1, ... {2,3}=5).
 */
export function patternRanks(m: number, n: number): Int32Array {
  const ranks = new Int32Array(1 << m).fill(-1);
  let next = 0;
  const pick = (start: number, left: number, mask: number): void => {
    if (left === 0) {
      ranks[mask] = next++;
      return;
    }
    for (let p = start; p <= m - left; p++) pick(p + 1, left - 1, mask | (1 << p));
  };
  pick(0, n, 0);
  return ranks;
}

export function checkUhpParams(layer: string, n: number, m: number, block: number): void {
  const ok =
    Number.isInteger(m) && m >= 2 && m <= 16 &&
    Number.isInteger(n) && n >= 1 && n < m &&
    Number.isInteger(block) && block >= 1;
  if (!ok) throw new ShapeError(`${layer}: UHP pattern ${n}:${m}:${block} needs 2 <= M <= 16, 1 <= N < M, B >= 1`);
}
