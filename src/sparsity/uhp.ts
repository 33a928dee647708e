/**
 * UHP (uniformity half-pruning) masks and their uniformity check, DESIGN §4.
 * Groups and blocks are those of ./uhp-geometry.ts; the rules here:
 *
 * Keep count. A group of `size` members keeps `min(N, size)`. Full groups keep
 * exactly `N`. A flat row's padded last group still stores `N` value slots and
 * one pattern index; when its real members are at most `N` they are all kept
 * and the padding fills the remaining slots. Example: the first conv of a CIFAR
 * ResNet (`L = 27`) at 2:4 keeps 6·2 + 2 = 14 of 27 weights per filter.
 *
 * Selection. The kept members are those with the largest score; a tie goes to
 * the lower position in the group. The score is `|w|` for `B = 1`; with block
 * `B` the score of a position is the sum of `|w|` over the block's output
 * channels, added in channel order in float64, and every channel of the block
 * gets the same mask. When `B` does not divide `O` the last block holds the
 * remaining `O mod B` channels and chooses from their sum alone.
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
import { validatePattern, type UhpPattern } from './pattern.js';
import {
  describeUhpBlock,
  uhpBlocks,
  uhpGeometry,
  uhpGroupSize,
  uhpKeepCount,
  uhpOccupancy,
  uhpOccupancyFor,
} from './uhp-geometry.js';

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
  const geo = uhpGeometry(layer.shape, pattern.m);
  const { stride, starts, groups } = geo;
  const data = layer.data;
  const mask = new Uint8Array(data.length);
  for (const block of uhpBlocks(rows, pattern.block)) {
    const end = block.end * rowLength;
    for (let g = 0; g < groups; g++) {
      const size = uhpGroupSize(geo, g);
      const start = block.start * rowLength + starts[g]!;
      const kept = uhpKeepCount(keep, size);
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
  const geo = uhpGeometry(shape, pattern.m);
  const occupancy = uhpOccupancyFor(geo);
  const report: UniformityReport = { ok: true, groups: 0, badGroups: 0, shortGroups: 0 };
  for (const block of uhpBlocks(rows, pattern.block)) {
    const { any, all, count } = uhpOccupancy(values, geo, block, occupancy);
    for (let g = 0; g < geo.groups; g++) {
      const expected = uhpKeepCount(pattern.n, uhpGroupSize(geo, g));
      const union = count[g]!;
      const shared = any[g] === all[g];
      report.groups++;
      const good = isMask ? shared && union === expected : union <= expected;
      if (!isMask && union < expected) report.shortGroups++;
      if (good) continue;
      report.badGroups++;
      if (report.firstBad === undefined) {
        const problem = isMask && !shared
          ? 'a mask that differs across the block'
          : `${union} ${isMask ? 'kept positions' : 'non-zero positions'}`;
        report.firstBad = {
          outChannel: block.start,
          group: g,
          count: union,
          expected,
          message: `${name}: ${describeUhpBlock(block)}, group ${g} holds ${problem}, expected ${isMask ? '' : 'at most '}${expected}`,
        };
      }
    }
  }
  report.ok = report.badGroups === 0;
  return report;
}
