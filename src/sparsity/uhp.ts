/**
 * UHP (uniformity half-pruning) masks, DESIGN §4. The exact rules:
 *
 * Rows. Output channel `o` owns one row of `L` weights in PyTorch memory
 * order: conv `[O, C/groups, kh, kw]` gives `L = (C/groups)·kh·kw` with channel
 * `c` of tap `t = kh_i·kw + kw_i` at row position `c·K + t` (`K = kh·kw`);
 * linear `[O, I]` gives `L = I`.
 *
 * Layouts. A row is read as `lanes` interleaved lanes; lane `t` is the row
 * positions `t, t + stride, t + 2·stride, ...`. Each lane is cut into groups of
 * `M` consecutive lane members.
 * - `tap` (conv with `C/groups` a multiple of `M`, 1x1 included): one lane per
 *   tap (`lanes = stride = K`, lane length `C/groups`), so a group is `M`
 *   consecutive input channels of one tap. Every group is full.
 * - `flat` (linear layers; convs whose `C/groups` is not a multiple of `M`,
 *   i.e. the first conv with Cin=3 and depthwise convs): the whole row is one
 *   lane (`lanes = stride = 1`) in `(c, kh, kw)` order. When `M` does not divide
 *   `L`, the last group of each row is a tail of `r = L mod M` members.
 * Groups within a row are numbered lane-major: `g = t·groupsPerLane + j`, so a
 * conv's groups run over all channel groups of tap 0, then tap 1, and so on.
 *
 * Keep count. A group of `size` members keeps `min(N, size)`. Full groups keep
 * exactly `N`. A tail is a full group whose `M − r` padding slots hold zeros
 * that are never chosen, so every group — tail included — still stores exactly
 * `N` value slots and one pattern index; when `r <= N` the whole tail is kept
 * and the padding fills the remaining slots. Example: the first conv of a CIFAR
 * ResNet (`L = 27`) at 2:4 keeps 6·2 + 2 = 14 of 27 weights per filter.
 *
 * Selection. The kept members are those with the largest score; a tie goes to
 * the lower position in the group. The score is `|w|` for `B = 1`; with block
 * `B` the score of a position is the sum of `|w|` over the block's output
 * channels, added in channel order in float64, and every channel of the block
 * gets the same mask. Blocks are output channels `[b·B, b·B + B)`; when `B` does
 * not divide `O` the last block holds the remaining `O mod B` channels and
 * chooses from their sum alone.
 *
 * Uniformity. A mask is uniform when, in every (block, group), every channel of
 * the block keeps the same positions and their number is the group's keep
 * count. Weights (already multiplied by the mask) are uniform when the union of
 * non-zero positions over the block is at most the keep count: that is what
 * the `.uhp` storage needs; a kept weight that is exactly zero only makes the
 * group short, which the report counts separately.
 */
import { ConfigError, ShapeError } from '../errors.js';
import { checkLayer, rowsOf, type LayerKind, type LayerWeight } from './layer.js';
import { UHP_GROUP_SIZES, validatePattern, type UhpPattern } from './pattern.js';

export interface UhpGrouping {
  layout: 'tap' | 'flat';
  m: number;
  outChannels: number;
  /** Weights per output channel. */
  rowLength: number;
  lanes: number;
  /** Row distance between consecutive members of a group (equals `lanes`). */
  stride: number;
  laneLength: number;
  groupsPerLane: number;
  groupsPerRow: number;
  /** Members of the last group of each lane: `M` unless the lane leaves a tail. */
  tailSize: number;
}

/** Row-relative position of a group's first member, member distance and member count. */
export interface UhpGroup {
  start: number;
  stride: number;
  size: number;
}

export function uhpGroups(shape: readonly number[], kind: LayerKind, m: number): UhpGrouping {
  if (!UHP_GROUP_SIZES.includes(m)) {
    throw new ConfigError('sparsity', `M must be one of ${UHP_GROUP_SIZES.join(', ')} (got ${m})`);
  }
  const { rows, rowLength } = rowsOf('weight', shape, kind);
  const channels = shape[1]!;
  const tap = kind === 'conv' && channels % m === 0;
  const lanes = tap ? rowLength / channels : 1;
  const laneLength = tap ? channels : rowLength;
  const groupsPerLane = Math.ceil(laneLength / m);
  return {
    layout: tap ? 'tap' : 'flat',
    m,
    outChannels: rows,
    rowLength,
    lanes,
    stride: lanes,
    laneLength,
    groupsPerLane,
    groupsPerRow: lanes * groupsPerLane,
    tailSize: laneLength - (groupsPerLane - 1) * m,
  };
}

export function uhpGroupAt(grouping: UhpGrouping, group: number): UhpGroup {
  if (!Number.isInteger(group) || group < 0 || group >= grouping.groupsPerRow) {
    throw new ShapeError(`group ${group} is outside 0..${grouping.groupsPerRow - 1}`);
  }
  const lane = Math.floor(group / grouping.groupsPerLane);
  const first = (group % grouping.groupsPerLane) * grouping.m;
  return {
    start: first * grouping.stride + lane,
    stride: grouping.stride,
    size: Math.min(grouping.m, grouping.laneLength - first),
  };
}

/** Weights a group of `size` members keeps when full groups keep `n`. */
export function uhpKeepCount(n: number, size: number): number {
  return Math.min(n, size);
}

// Reused by every group: mask computation runs every k training steps and must not allocate per group.
const scores = new Float64Array(16);
const ranked = new Float64Array(16);

/**
 * The UHP mask of one layer (1 = keep). `keep` replaces `N` while a gradual
 * schedule steps the keep count down from `M`; `keep = M` keeps everything.
 */
export function uhpMask(layer: LayerWeight, pattern: UhpPattern, keep = pattern.n): Uint8Array {
  validatePattern(pattern);
  if (!Number.isInteger(keep) || keep < 1 || keep > pattern.m) {
    throw new ConfigError('keepOverride', `must be an integer in 1..${pattern.m} (got ${keep})`);
  }
  const { rows, rowLength } = checkLayer(layer);
  const { lanes, stride, laneLength, m } = uhpGroups(layer.shape, layer.kind, pattern.m);
  const data = layer.data;
  const mask = new Uint8Array(data.length);
  for (let o0 = 0; o0 < rows; o0 += pattern.block) {
    const end = Math.min(rows, o0 + pattern.block) * rowLength;
    for (let lane = 0; lane < lanes; lane++) {
      for (let first = 0; first < laneLength; first += m) {
        const size = Math.min(m, laneLength - first);
        const start = o0 * rowLength + first * stride + lane;
        const kept = Math.min(keep, size);
        for (let j = 0; j < size; j++) {
          let sum = 0;
          for (let at = start + j * stride; at < end; at += rowLength) sum += Math.abs(data[at]!);
          scores[j] = sum;
        }
        // Insertion sort, descending: cheapest for at most 16 scores; its kept-th entry is the threshold.
        for (let j = 0; j < size; j++) {
          const score = scores[j]!;
          let i = j;
          for (; i > 0 && ranked[i - 1]! < score; i--) ranked[i] = ranked[i - 1]!;
          ranked[i] = score;
        }
        const threshold = ranked[kept - 1]!;
        let tiesToKeep = kept;
        for (let i = 0; i < kept; i++) if (ranked[i]! > threshold) tiesToKeep--;
        for (let j = 0; j < size; j++) {
          const score = scores[j]!;
          // Equal scores at the threshold go to the lower positions.
          if (score > threshold || (score === threshold && tiesToKeep-- > 0)) {
            for (let at = start + j * stride; at < end; at += rowLength) mask[at] = 1;
          }
        }
      }
    }
  }
  return mask;
}

export interface UniformityReport {
  ok: boolean;
  /** (block, group) pairs checked. */
  groups: number;
  badGroups: number;
  /** Weights only: groups holding fewer non-zeros than their keep count (a kept weight is exactly 0). */
  shortGroups: number;
  firstBad?: { outChannel: number; group: number; count: number; expected: number; message: string };
}

/**
 * Checks a mask (Uint8Array) or masked weights (Float32Array) against a UHP
 * pattern; see the rules at the top of this file. `pattern.n` is the keep count
 * to check (pass the scheduled count during a gradual schedule).
 */
export function checkUniformity(
  name: string,
  shape: readonly number[],
  kind: LayerKind,
  values: Uint8Array | Float32Array,
  pattern: UhpPattern,
): UniformityReport {
  validatePattern(pattern);
  const { rows, rowLength } = rowsOf(name, shape, kind);
  if (values.length !== rows * rowLength) {
    throw new ShapeError(`${name}: shape [${shape.join(', ')}] holds ${rows * rowLength} values, got ${values.length}`);
  }
  const isMask = values instanceof Uint8Array;
  const { lanes, stride, laneLength, groupsPerLane, m } = uhpGroups(shape, kind, pattern.m);
  const report: UniformityReport = { ok: true, groups: 0, badGroups: 0, shortGroups: 0 };
  for (let o0 = 0; o0 < rows; o0 += pattern.block) {
    const o1 = Math.min(rows, o0 + pattern.block);
    for (let lane = 0; lane < lanes; lane++) {
      for (let first = 0; first < laneLength; first += m) {
        const size = Math.min(m, laneLength - first);
        const start = first * stride + lane;
        const expected = uhpKeepCount(pattern.n, size);
        let union = 0;
        let shared = true;
        for (let j = 0; j < size; j++) {
          let nonZero = 0;
          for (let o = o0; o < o1; o++) if (values[o * rowLength + start + j * stride] !== 0) nonZero++;
          if (nonZero > 0) union++;
          if (nonZero !== 0 && nonZero !== o1 - o0) shared = false;
        }
        report.groups++;
        const good = isMask ? shared && union === expected : union <= expected;
        if (!isMask && union < expected) report.shortGroups++;
        if (good) continue;
        report.badGroups++;
        if (report.firstBad === undefined) {
          const group = lane * groupsPerLane + first / m;
          const channels = o1 - o0 === 1 ? `output channel ${o0}` : `output channels ${o0}..${o1 - 1}`;
          const problem = isMask && !shared
            ? 'a mask that differs across the block'
            : `${union} ${isMask ? 'kept positions' : 'non-zero positions'}`;
          report.firstBad = {
            outChannel: o0,
            group,
            count: union,
            expected,
            message: `${name}: ${channels}, group ${group} holds ${problem}, expected ${isMask ? '' : 'at most '}${expected}`,
          };
        }
      }
    }
  }
  report.ok = report.badGroups === 0;
  return report;
}
