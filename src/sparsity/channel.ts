import { checkLayer, type LayerWeight } from './layer.js';
import { prunedCount } from './unstructured.js';

/**
 * Filter pruning (Li et al. 2017): the `round(sparsity·O)` output channels with
 * the smallest L1 norm lose their whole filter; at least one filter survives.
 * Equal norms: the lower channel index is kept.
 */
export function channelMask(layer: LayerWeight, sparsity: number): Uint8Array {
  const { rows, rowLength } = checkLayer(layer);
  const norms = new Float64Array(rows);
  for (let o = 0; o < rows; o++) {
    let sum = 0;
    for (let i = o * rowLength; i < (o + 1) * rowLength; i++) sum += Math.abs(layer.data[i]!);
    norms[o] = sum;
  }
  const order = Array.from({ length: rows }, (_, o) => o).sort((a, b) => norms[b]! - norms[a]! || a - b);
  const mask = new Uint8Array(layer.data.length);
  const keep = rows - prunedCount(rows, sparsity);
  for (let r = 0; r < keep; r++) mask.fill(1, order[r]! * rowLength, (order[r]! + 1) * rowLength);
  return mask;
}
