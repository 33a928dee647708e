/**
 * Slow, independent re-statement of the UHP rules for the tests: group
 * positions are listed explicitly and the kept set is found by enumerating
 * every subset of the keep count.
 */
import type { LayerWeight } from '../../src/sparsity/index.js';

/** Every group of one output channel as absolute row positions, in the documented order. */
export function referenceGroups(shape: number[], kind: 'conv' | 'linear', m: number): number[][] {
  const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
  const groups: number[][] = [];
  if (kind === 'conv' && shape[1]! % m === 0) {
    const taps = shape[2]! * shape[3]!;
    for (let t = 0; t < taps; t++) {
      for (let c0 = 0; c0 < shape[1]!; c0 += m) {
        groups.push(Array.from({ length: m }, (_, j) => (c0 + j) * taps + t));
      }
    }
  } else {
    for (let p = 0; p < rowLength; p += m) {
      groups.push(Array.from({ length: Math.min(m, rowLength - p) }, (_, j) => p + j));
    }
  }
  return groups;
}

function subsetsOfSize(size: number, k: number, visit: (members: number[]) => void): void {
  const chosen: number[] = [];
  const walk = (from: number) => {
    if (chosen.length === k) return visit(chosen);
    for (let i = from; i <= size - (k - chosen.length); i++) {
      chosen.push(i);
      walk(i + 1);
      chosen.pop();
    }
  };
  walk(0);
}

export function referenceUhpMask(layer: LayerWeight, n: number, m: number, block: number): Uint8Array {
  const rows = layer.shape[0]!;
  const rowLength = layer.data.length / rows;
  const mask = new Uint8Array(layer.data.length);
  const groups = referenceGroups(layer.shape, layer.kind, m);
  for (let o0 = 0; o0 < rows; o0 += block) {
    const members = Array.from({ length: Math.min(block, rows - o0) }, (_, b) => o0 + b);
    for (const group of groups) {
      const score = group.map((p) => members.reduce((s, o) => s + Math.abs(layer.data[o * rowLength + p]!), 0));
      let best: number[] = [];
      let bestSum = -1;
      let bestIndexSum = Infinity;
      // Max summed magnitude; among equal sums the lowest positions (smallest index sum) win.
      subsetsOfSize(group.length, Math.min(n, group.length), (subset) => {
        const sum = subset.reduce((s, j) => s + score[j]!, 0);
        const indexSum = subset.reduce((s, j) => s + j, 0);
        if (sum > bestSum || (sum === bestSum && indexSum < bestIndexSum)) {
          best = [...subset];
          bestSum = sum;
          bestIndexSum = indexSum;
        }
      });
      for (const j of best) for (const o of members) mask[o * rowLength + group[j]!] = 1;
    }
  }
  return mask;
}

/** Deterministic pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Weights that are multiples of 1/8 in [-4, 4]: sums are exact, so ties are
 * frequent and the tie rule is exercised.
 */
export function layerOf(name: string, kind: 'conv' | 'linear', shape: number[], seed: number): LayerWeight {
  const next = random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (Math.floor(next() * 65) - 32) / 8;
  return { name, kind, shape, data };
}
