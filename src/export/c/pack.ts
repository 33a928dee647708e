/**
 * Weights of one conv/linear in the layout the engine's kernels read, as the
 * engine's planner packs them at load time, but computed here so they can be
 * const arrays in flash. UHP layers keep only their kept values and the
 * .uhp bit-packed pattern indices; the generated C expands one output block's
 * indices into kernel offsets just before the kernel call.
 */
import { ShapeError } from '../../errors.js';
import { checkUhpParams, groupPosition, groupsPerChannel, patternBits, patternRanks, type WeightGeometry } from '../uhp-pattern.js';
import type { ConvPlan } from './plan.js';

export interface UhpPacking {
  n: number;
  m: number;
  block: number;
  groups: number;
  bits: number;
  /** Pattern indices per (pattern block, group), bit-packed LSB first as in .uhp. */
  indices: Uint8Array;
}

export interface PackedLayer {
  /** Kernel-ordered weights: lanes interleaved per output block, padded lanes zero. */
  w: Float32Array;
  /** Per output-block stride of w. */
  wStride: number;
  /** ob * nblocks values, zero past O. */
  bias: Float32Array;
  /** dense16/depthwise/grouped: tap offsets; sparse/gather: group start offsets (flat sparse: position offsets); csr: entry offsets. */
  off: Int32Array;
  rowptr: Int32Array | null;
  uhp: UhpPacking | null;
  /** Kernel fields: entries (or taps, or groups) per task, and channels per tap (or kept per group). */
  nOff: number;
  cin: number;
}

function geometry(cp: ConvPlan): WeightGeometry {
  return { outChannels: cp.o, inPerGroup: cp.cg, taps: cp.kh * cp.kw };
}

/** Offset of input channel c at tap t from a window origin: in the padded NHWC input, or in an im2col row. */
function inOffset(cp: ConvPlan, c: number, tap: number): number {
  if (cp.kpad > 0) return c * cp.kh * cp.kw + tap;
  const i = Math.floor(tap / cp.kw), j = tap % cp.kw;
  return (i * cp.dh * cp.wp + j * cp.dw) * cp.c + c;
}

/**
 * Kept positions of every (pattern block, group), as the .uhp writer derives
 * them from the zeros: a group with fewer than N non-zeros keeps its lowest
 * free positions too, and one with more is refused.
 */
function uhpMasks(cp: ConvPlan, n: number, m: number, block: number): { masks: Uint16Array; groups: number } {
  const geo = geometry(cp);
  const perOut = geo.inPerGroup * geo.taps;
  const groups = groupsPerChannel(geo, m);
  const blocks = Math.ceil(cp.o / block);
  const masks = new Uint16Array(blocks * groups);
  const weight = cp.node.weight;
  for (let b = 0; b < blocks; b++) {
    const o0 = b * block, o1 = Math.min(cp.o, o0 + block);
    for (let g = 0; g < groups; g++) {
      let mask = 0, count = 0;
      for (let j = 0; j < m; j++) {
        const pos = groupPosition(geo, m, g, j);
        if (pos < 0) continue;
        for (let o = o0; o < o1; o++) {
          if (weight[o * perOut + pos] !== 0) {
            mask |= 1 << j;
            count++;
            break;
          }
        }
      }
      if (count > n) {
        throw new ShapeError(`${cp.node.name}: output channels ${o0}..${o1 - 1}, group ${g} hold ${count} non-zeros; pattern ${n}:${m} keeps at most ${n}`);
      }
      for (let j = 0; j < m && count < n; j++) {
        if (!((mask >> j) & 1)) {
          mask |= 1 << j;
          count++;
        }
      }
      masks[b * groups + g] = mask;
    }
  }
  return { masks, groups };
}

function keptPositions(mask: number, m: number): number[] {
  const js: number[] = [];
  for (let j = 0; j < m; j++) if ((mask >> j) & 1) js.push(j);
  return js;
}

function packIndices(masks: Uint16Array, n: number, m: number): { indices: Uint8Array; bits: number } {
  const bits = patternBits(m, n);
  const ranks = patternRanks(m, n);
  const indices = new Uint8Array(Math.max(1, Math.ceil((masks.length * bits) / 8)));
  let bit = 0;
  for (const mask of masks) {
    const rank = ranks[mask];
    for (let i = 0; i < bits; i++, bit++) if ((rank >> i) & 1) indices[bit >> 3] |= 1 << (bit & 7);
  }
  return { indices, bits };
}

export function packLayer(cp: ConvPlan): PackedLayer {
  const node = cp.node;
  const taps = cp.kh * cp.kw;
  const perOut = cp.cg * taps;
  const weightAt = (o: number, pos: number): number => (pos < 0 || o >= cp.o ? 0 : node.weight[o * perOut + pos]);
  const bias = new Float32Array(cp.ob * cp.nblocks);
  if (node.bias) bias.set(node.bias);
  const tapOffsets = (): Int32Array => Int32Array.from({ length: taps }, (_, t) => inOffset(cp, 0, t));
  const base = { bias, rowptr: null, uhp: null };

  switch (cp.path) {
    case 'dense16': {
      const wStride = taps * cp.cg * 16;
      const w = new Float32Array(wStride * cp.nblocks);
      for (let b = 0; b < cp.nblocks; b++)
        for (let t = 0; t < taps; t++)
          for (let ch = 0; ch < cp.cg; ch++)
            for (let l = 0; l < 16; l++) w[b * wStride + (t * cp.cg + ch) * 16 + l] = weightAt(b * 16 + l, ch * taps + t);
      return { ...base, w, wStride, off: tapOffsets(), nOff: taps, cin: cp.cg };
    }
    case 'depthwise': {
      const w = new Float32Array(perOut * cp.o);
      for (let t = 0; t < taps; t++) for (let o = 0; o < cp.o; o++) w[t * cp.o + o] = node.weight[o * taps + t];
      return { ...base, w, wStride: 0, off: tapOffsets(), nOff: taps, cin: 0 };
    }
    case 'grouped': {
      const w = new Float32Array(perOut * cp.o);
      for (let o = 0; o < cp.o; o++)
        for (let t = 0; t < taps; t++)
          for (let ch = 0; ch < cp.cg; ch++) w[(o * taps + t) * cp.cg + ch] = node.weight[o * perOut + ch * taps + t];
      return { ...base, w, wStride: 0, off: tapOffsets(), nOff: taps, cin: 0 };
    }
    case 'csr': {
      const vals: number[] = [];
      const offs: number[] = [];
      const rowptr = new Int32Array(cp.o + 1);
      for (let o = 0; o < cp.o; o++) {
        for (let ch = 0; ch < cp.cg; ch++)
          for (let t = 0; t < taps; t++) {
            const v = node.weight[o * perOut + ch * taps + t];
            if (v === 0) continue;
            vals.push(v);
            offs.push(inOffset(cp, ch, t));
          }
        rowptr[o + 1] = vals.length;
      }
      return { ...base, w: Float32Array.from(vals), wStride: 0, off: Int32Array.from(offs), rowptr, nOff: vals.length, cin: 0 };
    }
    case 'sparse16':
    case 'sparse8':
    case 'gather8': {
      const p = node.pattern;
      if (p.kind !== 'uhp') throw new ShapeError(`${node.name}: path ${cp.path} needs a UHP pattern`);
      checkUhpParams(node.name, p.n, p.m, p.block);
      const { n, m, block } = p;
      const geo = geometry(cp);
      const { masks, groups } = uhpMasks(cp, n, m, block);
      const uhp = { n, m, block, groups, ...packIndices(masks, n, m) };
      const perTap = cp.cg / m;
      const offsetOf = (pos: number): number => (pos < 0 ? 0 : inOffset(cp, Math.floor(pos / taps), pos % taps));
      // Flat sparse groups: one offset per position, since a group's inputs are not contiguous; otherwise one per group start.
      const off = cp.flat && cp.path !== 'gather8'
        ? Int32Array.from({ length: groups * m }, (_, k) => offsetOf(groupPosition(geo, m, Math.floor(k / m), k % m)))
        : Int32Array.from({ length: groups }, (_, g) => (cp.kpad > 0 ? g * m : inOffset(cp, (g % perTap) * m, Math.floor(g / perTap))));
      const ob = cp.ob;
      const wStride = groups * n * ob;
      const w = new Float32Array(wStride * cp.nblocks);
      for (let b = 0; b < cp.nblocks; b++) {
        for (let l = 0; l < ob; l++) {
          const o = b * ob + l;
          // Sparse blocks share their first channel's mask; gather lanes each read their own.
          const src = cp.path === 'gather8' ? o : b * ob;
          for (let g = 0; g < groups; g++) {
            const js = src < cp.o ? keptPositions(masks[Math.floor(src / block) * groups + g], m) : new Array<number>(n).fill(0);
            for (let k = 0; k < n; k++) {
              const at = b * wStride + (g * n + k) * ob + l;
              w[at] = weightAt(o, groupPosition(geo, m, g, js[k]));
            }
          }
        }
      }
      return { ...base, w, wStride, off, uhp, nOff: cp.path === 'gather8' ? groups : groups * n, cin: cp.path === 'gather8' ? n : 0 };
    }
  }
}
