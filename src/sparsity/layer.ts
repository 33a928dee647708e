import { ConfigError, DstError, ShapeError } from '../errors.js';

/**
 * One prunable weight, copied out of the model.
 * conv: `[O, C/groups, kh, kw]` (PyTorch layout); linear: `[O, I]`.
 */
export interface LayerWeight {
  name: string;
  kind: 'conv' | 'linear';
  shape: number[];
  data: Float32Array;
}

export type LayerKind = LayerWeight['kind'];

/** Output channels and weights per output channel, after checking that the shape fits the kind. */
export function rowsOf(name: string, shape: readonly number[], kind: LayerKind): { rows: number; rowLength: number } {
  const rank = kind === 'conv' ? 4 : 2;
  if (shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ShapeError(`${name}: a ${kind} weight needs ${rank} positive dimensions, got [${shape.join(', ')}]`);
  }
  const rows = shape[0]!;
  let rowLength = 1;
  for (let i = 1; i < rank; i++) rowLength *= shape[i]!;
  return { rows, rowLength };
}

/** Checks shape against data and rejects NaN, which has no magnitude order. */
export function checkLayer(layer: LayerWeight): { rows: number; rowLength: number } {
  const dims = rowsOf(layer.name, layer.shape, layer.kind);
  if (layer.data.length !== dims.rows * dims.rowLength) {
    throw new ShapeError(
      `${layer.name}: shape [${layer.shape.join(', ')}] holds ${dims.rows * dims.rowLength} weights, data has ${layer.data.length}`,
    );
  }
  const data = layer.data;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== data[i]) {
      throw new DstError('E_NAN', `${layer.name}: weight ${i} is NaN; masks rank weights by magnitude`);
    }
  }
  return dims;
}

/** `*` matches any run of characters, `?` one character; anything else is literal. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The layers a pattern applies to: those matching `include` (all when absent),
 * minus those matching `exclude`. A name or glob that matches no layer is an
 * error, because a silent typo would leave a layer dense for a whole run.
 */
export function selectLayers(layers: readonly LayerWeight[], include?: readonly string[], exclude?: readonly string[]): LayerWeight[] {
  const seen = new Set<string>();
  for (const layer of layers) {
    if (seen.has(layer.name)) throw new ShapeError(`layer '${layer.name}' appears twice`);
    seen.add(layer.name);
  }
  const matcher = (key: string, globs: readonly string[]) => {
    const regexps = globs.map(globToRegExp);
    regexps.forEach((regexp, i) => {
      if (!layers.some((layer) => regexp.test(layer.name))) {
        throw new ConfigError(key, `'${globs[i]}' matches no layer`);
      }
    });
    return (name: string) => regexps.some((regexp) => regexp.test(name));
  };
  const included = include === undefined ? () => true : matcher('include', include);
  const excluded = exclude === undefined ? () => false : matcher('exclude', exclude);
  return layers.filter((layer) => included(layer.name) && !excluded(layer.name));
}
