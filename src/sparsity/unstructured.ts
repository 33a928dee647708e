import { checkLayer, type LayerWeight } from './layer.js';

/**
 * Weights pruned out of `total` at `sparsity`. At least one weight survives,
 * because a layer (or model) with no weight left cannot be trained back.
 */
export function prunedCount(total: number, sparsity: number): number {
  return Math.min(Math.round(sparsity * total), total - 1);
}

/**
 * Magnitude masks with exact counts: the `total − prunedCount` largest |w| are
 * kept. Ties at the threshold go to the earlier weight, in layer order then
 * index order. `scope: 'global'` draws one threshold over all given layers.
 */
export function unstructuredMasks(
  layers: readonly LayerWeight[],
  sparsity: number,
  scope: 'layer' | 'global',
): Map<string, Uint8Array> {
  for (const layer of layers) checkLayer(layer);
  const masks = new Map<string, Uint8Array>();
  if (scope === 'layer') {
    for (const layer of layers) {
      masks.set(layer.name, keepLargest([layer.data], layer.data.length - prunedCount(layer.data.length, sparsity))[0]!);
    }
    return masks;
  }
  const total = layers.reduce((sum, layer) => sum + layer.data.length, 0);
  if (total === 0) return masks;
  const kept = keepLargest(layers.map((layer) => layer.data), total - prunedCount(total, sparsity));
  layers.forEach((layer, i) => masks.set(layer.name, kept[i]!));
  return masks;
}

/** Masks keeping the `keep` largest magnitudes over the concatenation of `arrays`. */
function keepLargest(arrays: readonly Float32Array[], keep: number): Uint8Array[] {
  const total = arrays.reduce((sum, a) => sum + a.length, 0);
  const magnitudes = new Float32Array(total);
  let offset = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) magnitudes[offset + i] = Math.abs(a[i]!);
    offset += a.length;
  }
  // The keep-th largest magnitude (keep >= 1): everything above it is kept, ties at it fill up in order.
  const threshold = selectKth(magnitudes, total - keep);
  let tiesLeft = keep;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]!) > threshold) tiesLeft--;
  }
  return arrays.map((a) => {
    const mask = new Uint8Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const magnitude = Math.abs(a[i]!);
      if (magnitude > threshold || (magnitude === threshold && tiesLeft-- > 0)) mask[i] = 1;
    }
    return mask;
  });
}

/** The k-th smallest value (0-based) of `values`, which it reorders (Hoare quickselect, median of three). */
export function selectKth(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const a = values[lo]!;
    const b = values[mid]!;
    const c = values[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}
