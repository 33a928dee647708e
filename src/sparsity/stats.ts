import { ConfigError, ShapeError } from '../errors.js';
import { checkLayer, type LayerWeight } from './layer.js';
import type { Pattern } from './pattern.js';
import { checkUniformity } from './uhp.js';

export interface LayerStats {
  name: string;
  kind: LayerWeight['kind'];
  shape: number[];
  params: number;
  /** Weights that are non-zero after masking. */
  nonZeros: number;
  sparsity: number;
  /** Multiply-adds of one forward pass of one sample: params · output positions. */
  denseMacs: number;
  /** Multiply-adds left when zero weights are skipped: non-zeros · output positions. */
  effectiveMacs: number;
  masked: boolean;
  /** UHP patterns on masked layers: whether the mask and masked weights are uniform; otherwise null. */
  uniform: boolean | null;
}

/**
 * Statistics of one layer. `outPositions` is the conv's output height·width
 * (1 for linear layers); `pattern` enables the uniformity flag.
 */
export function layerStats(layer: LayerWeight, mask: Uint8Array | undefined, outPositions: number, pattern?: Pattern): LayerStats {
  checkLayer(layer);
  if (!Number.isInteger(outPositions) || outPositions < 1) {
    throw new ConfigError('outPositions', `${layer.name}: must be an integer >= 1 (got ${outPositions})`);
  }
  const data = layer.data;
  if (mask !== undefined && mask.length !== data.length) {
    throw new ShapeError(`${layer.name}: ${data.length} weights but ${mask.length} mask entries`);
  }
  let nonZeros = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && (mask === undefined || mask[i])) nonZeros++;
  let uniform: boolean | null = null;
  if (mask !== undefined && pattern?.kind === 'uhp') {
    const masked = data.map((w, i) => (mask[i] ? w : 0));
    uniform =
      checkUniformity(layer.name, layer.shape, layer.kind, mask, pattern).ok &&
      checkUniformity(layer.name, layer.shape, layer.kind, masked, pattern).ok;
  }
  return {
    name: layer.name,
    kind: layer.kind,
    shape: [...layer.shape],
    params: data.length,
    nonZeros,
    sparsity: 1 - nonZeros / data.length,
    denseMacs: data.length * outPositions,
    effectiveMacs: nonZeros * outPositions,
    masked: mask !== undefined,
    uniform,
  };
}

export interface ModelStats {
  layers: LayerStats[];
  params: number;
  nonZeros: number;
  sparsity: number;
  denseMacs: number;
  effectiveMacs: number;
  /** All masked layers uniform; null when the pattern is not UHP or nothing is masked. */
  uniform: boolean | null;
}

/**
 * Statistics over the given layers; a layer without a mask counts as dense.
 * `outPositions` maps every conv layer's name to its output height·width;
 * linear layers default to 1.
 */
export function modelStats(
  layers: readonly LayerWeight[],
  masks: ReadonlyMap<string, Uint8Array>,
  outPositions: Readonly<Record<string, number>>,
  pattern?: Pattern,
): ModelStats {
  const perLayer = layers.map((layer) => {
    const positions = outPositions[layer.name] ?? (layer.kind === 'linear' ? 1 : undefined);
    if (positions === undefined) {
      throw new ConfigError('outPositions', `no output size given for conv layer ${layer.name}`);
    }
    return layerStats(layer, masks.get(layer.name), positions, pattern);
  });
  const sum = (pick: (s: LayerStats) => number) => perLayer.reduce((total, s) => total + pick(s), 0);
  const params = sum((s) => s.params);
  const nonZeros = sum((s) => s.nonZeros);
  const checked = perLayer.filter((s) => s.uniform !== null);
  return {
    layers: perLayer,
    params,
    nonZeros,
    sparsity: params === 0 ? 0 : 1 - nonZeros / params,
    denseMacs: sum((s) => s.denseMacs),
    effectiveMacs: sum((s) => s.effectiveMacs),
    uniform: checked.length === 0 ? null : checked.every((s) => s.uniform === true),
  };
}
