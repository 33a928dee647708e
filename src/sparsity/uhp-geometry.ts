/**
 * UHP geometry (docs/method.md "Groups", docs/uhp-format.md "pattern"): which
 * weights of a conv or linear layer form a group, which output channels share
 * a mask, and how a group's kept set is numbered and bit-packed. The mask
 * computation, the uniformity check and the .uhp writer and reader all take
 * their groups from here; native/engine/uhp_geometry.c is the engine's twin,
 * held to the same groups on every zoo model by test/engine/uhp-geometry.test.ts.
 *
 * Rows. Output channel `o` owns one row of `L = Cg·kh·kw` weights in PyTorch
 * order: channel `c` of tap `t = i·kw + j` sits at row position `c·T + t`
 * (`T = kh·kw` taps); a linear weight `[O, I]` is a 1x1 conv with `Cg = I`.
 *
 * Groupings, chosen by `Cg mod M` exactly as the engine's reader does:
 * - `channel` (`Cg` a multiple of `M`): per tap, `M` consecutive input
 *   channels; groups run tap-major (all channel groups of tap 0, then tap 1).
 *   Members are `T` apart in the row and every group is full.
 * - `flat` (every other layer: a first conv with 1 or 3 input channels,
 *   depthwise convs, linear layers with `I` not a multiple of `M`): `M`
 *   consecutive row positions; when `M` does not divide `L` the last group
 *   holds `L mod M` real members and padding slots that hold nothing.
 */
import { ShapeError } from '../errors.js';

export type UhpGrouping = 'channel' | 'flat';

export interface UhpGeometry {
  grouping: UhpGrouping;
  m: number;
  outChannels: number;
  /** Input channels per conv group (`Cg`); a linear layer's input features. */
  inPerGroup: number;
  /** `[kh, kw]`; null for a linear layer. */
  kernel: readonly [number, number] | null;
  taps: number;
  /** Weights per output channel. */
  rowLength: number;
  /** Groups per output channel. */
  groups: number;
  /** Row distance between consecutive members of a group. */
  stride: number;
  /** Row position of member 0 of each group. */
  starts: Int32Array;
  /** Real members of the last group: `M`, or fewer when a flat row is padded. */
  lastSize: number;
}

/** The groups of a conv weight `[O, Cg, kh, kw]` or a linear weight `[O, I]` at group size `m`. */
export function uhpGeometry(weightShape: readonly number[], m: number): UhpGeometry {
  if (weightShape.length !== 2 && weightShape.length !== 4) {
    throw new ShapeError(`a UHP weight is [O, Cg, kh, kw] or [O, I], got [${weightShape.join(', ')}]`);
  }
  const [outChannels, inPerGroup] = weightShape as [number, number];
  const kernel = weightShape.length === 4 ? ([weightShape[2]!, weightShape[3]!] as const) : null;
  const taps = kernel ? kernel[0] * kernel[1] : 1;
  const rowLength = inPerGroup * taps;
  const channel = inPerGroup % m === 0;
  const groups = channel ? taps * (inPerGroup / m) : Math.ceil(rowLength / m);
  const starts = new Int32Array(groups);
  const perTap = inPerGroup / m;
  for (let g = 0; g < groups; g++) starts[g] = channel ? (g % perTap) * m * taps + Math.floor(g / perTap) : g * m;
  return {
    grouping: channel ? 'channel' : 'flat',
    m,
    outChannels,
    inPerGroup,
    kernel,
    taps,
    rowLength,
    groups,
    stride: channel ? taps : 1,
    starts,
    lastSize: channel ? m : rowLength - (groups - 1) * m,
  };
}

/** Real members of group `g`. */
export function uhpGroupSize(geo: UhpGeometry, g: number): number {
  return g === geo.groups - 1 ? geo.lastSize : geo.m;
}

/** Row position of member `j` of group `g`, or -1 for a padding slot. */
export function uhpPosition(geo: UhpGeometry, g: number, j: number): number {
  return j < uhpGroupSize(geo, g) ? geo.starts[g]! + j * geo.stride : -1;
}

/** Every group's `M` row positions (-1 for padding), group-major: what the engine's `uhpPositions` reports. */
export function uhpPositions(geo: UhpGeometry): Int32Array {
  const positions = new Int32Array(geo.groups * geo.m);
  for (let g = 0; g < geo.groups; g++) {
    for (let j = 0; j < geo.m; j++) positions[g * geo.m + j] = uhpPosition(geo, g, j);
  }
  return positions;
}

/** Weights a group of `size` real members keeps when full groups keep `n`. */
export function uhpKeepCount(n: number, size: number): number {
  return Math.min(n, size);
}

/** Group `g` in words, for errors that must point a user at the weights. */
export function describeUhpGroup(geo: UhpGeometry, g: number): string {
  const { m, taps } = geo;
  const start = geo.starts[g]!;
  if (geo.grouping === 'flat') return `flattened weights ${start}..${start + m - 1}`;
  const tap = start % taps;
  const c0 = Math.floor(start / taps);
  const where = geo.kernel ? `tap (${Math.floor(tap / geo.kernel[1])}, ${tap % geo.kernel[1]}), ` : '';
  return `${where}input channels ${c0}..${c0 + m - 1}`;
}

/** Output channels `[start, end)` that share one mask. */
export interface UhpBlock {
  start: number;
  end: number;
}

/** Blocks of `block` consecutive output channels; the last one holds what is left. */
export function uhpBlocks(outChannels: number, block: number): UhpBlock[] {
  const blocks: UhpBlock[] = [];
  for (let start = 0; start < outChannels; start += block) blocks.push({ start, end: Math.min(outChannels, start + block) });
  return blocks;
}

/** A block in words. */
export function describeUhpBlock({ start, end }: UhpBlock): string {
  return end - start === 1 ? `output channel ${start}` : `output channels ${start}..${end - 1}`;
}

/** Per group, the members (bit j = member j) that are non-zero in any, and in all, of a block's channels. */
export interface UhpOccupancy {
  any: Uint16Array;
  all: Uint16Array;
  /** Members set in `any`. */
  count: Uint8Array;
}

/** Room for the occupancy of every group of a layer. */
export function uhpOccupancyFor(geo: UhpGeometry): UhpOccupancy {
  return { any: new Uint16Array(geo.groups), all: new Uint16Array(geo.groups), count: new Uint8Array(geo.groups) };
}

/**
 * Which members of every group hold non-zeros over one block of `values` (one
 * row per output channel). Fills and returns `into`, so a caller going over
 * every block allocates once.
 */
export function uhpOccupancy(
  values: ArrayLike<number>,
  geo: UhpGeometry,
  { start, end }: UhpBlock,
  into: UhpOccupancy = uhpOccupancyFor(geo),
): UhpOccupancy {
  const { rowLength, stride, starts, groups } = geo;
  const { any, all, count } = into;
  const channels = end - start;
  const stop = end * rowLength;
  for (let g = 0; g < groups; g++) {
    const size = uhpGroupSize(geo, g);
    const first = start * rowLength + starts[g]!;
    let some = 0;
    let every = 0;
    let members = 0;
    for (let j = 0; j < size; j++) {
      let nonZero = 0;
      for (let at = first + j * stride; at < stop; at += rowLength) if (values[at] !== 0) nonZero++;
      if (nonZero > 0) {
        some |= 1 << j;
        members++;
      }
      if (nonZero === channels) every |= 1 << j;
    }
    any[g] = some;
    all[g] = every;
    count[g] = members;
  }
  return into;
}

/** C(m, n): how many kept sets a group has. */
export function uhpPatternCount(m: number, n: number): number {
  let count = 1;
  for (let i = 1; i <= n; i++) count = (count * (m - n + i)) / i;
  return Math.round(count);
}

/** Bits of one packed pattern index: ceil(log2(C(M,N))), at least 1. */
export function uhpPatternBits(m: number, n: number): number {
  return Math.max(1, Math.ceil(Math.log2(uhpPatternCount(m, n))));
}

/**
 * The kept sets as bit masks, indexed by pattern index: the `n`-subsets of
 * `{0..m-1}` in lexicographic order of their ascending positions
 * (2:4: {0,1}=0, {0,2}=1, {0,3}=2, {1,2}=3, {1,3}=4, {2,3}=5).
 */
export function uhpPatternMasks(m: number, n: number): Uint16Array {
  const masks = new Uint16Array(uhpPatternCount(m, n));
  let next = 0;
  const pick = (from: number, left: number, mask: number): void => {
    if (left === 0) {
      masks[next++] = mask;
      return;
    }
    for (let p = from; p <= m - left; p++) pick(p + 1, left - 1, mask | (1 << p));
  };
  pick(0, n, 0);
  return masks;
}

/** Pattern index of every kept-set bit mask; -1 for a mask that does not hold exactly `n` members. */
export function uhpPatternRanks(m: number, n: number): Int32Array {
  const ranks = new Int32Array(1 << m).fill(-1);
  uhpPatternMasks(m, n).forEach((mask, rank) => {
    ranks[mask] = rank;
  });
  return ranks;
}

/** Bytes of `count` packed indices of `bits` bits. */
export function packedIndexBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/**
 * Stores index number `slot` (block-major: `block · groups + group`) into a
 * zeroed bit stream, least significant bit first within each byte.
 */
export function writePatternIndex(stream: Uint8Array, slot: number, bits: number, index: number): void {
  for (let i = 0, at = slot * bits; i < bits; i++, at++) {
    if ((index >> i) & 1) stream[at >> 3] |= 1 << (at & 7);
  }
}

/** Index number `slot` of a stream written by `writePatternIndex`. */
export function readPatternIndex(stream: Uint8Array, slot: number, bits: number): number {
  let index = 0;
  for (let i = 0, at = slot * bits; i < bits; i++, at++) index |= ((stream[at >> 3]! >> (at & 7)) & 1) << i;
  return index;
}
