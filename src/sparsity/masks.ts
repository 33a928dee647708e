import { ConfigError } from '../errors.js';
import { channelMask } from './channel.js';
import { selectLayers, type LayerWeight } from './layer.js';
import { validatePattern, type Pattern } from './pattern.js';
import { uhpMask } from './uhp.js';
import { unstructuredMasks } from './unstructured.js';

export interface MaskOptions {
  /** UHP only: weights kept per full group instead of `N` (a gradual schedule's current step, 1..M). */
  keepOverride?: number;
  /** Layer names or globs (`*`, `?`) to prune; all layers when absent. */
  include?: string[];
  /** Layer names or globs left dense. */
  exclude?: string[];
}

/**
 * Masks (1 = keep) for the selected layers, keyed by layer name. A layer absent
 * from the result stays dense: excluded layers, and every layer of `dense`.
 */
export function computeMasks(layers: LayerWeight[], pattern: Pattern, opts: MaskOptions = {}): Map<string, Uint8Array> {
  validatePattern(pattern);
  if (opts.keepOverride !== undefined && pattern.kind !== 'uhp') {
    throw new ConfigError('keepOverride', `applies to uhp patterns only, not ${pattern.kind}`);
  }
  const selected = selectLayers(layers, opts.include, opts.exclude);
  switch (pattern.kind) {
    case 'dense':
      return new Map();
    case 'uhp':
      return new Map(selected.map((layer) => [layer.name, uhpMask(layer, pattern, opts.keepOverride)]));
    case 'unstructured':
      return unstructuredMasks(selected, pattern.sparsity, pattern.scope);
    case 'channel':
      return new Map(selected.map((layer) => [layer.name, channelMask(layer, pattern.sparsity)]));
  }
}
