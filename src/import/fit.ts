/**
 * Fits a foreign state dict to a dst model: renames keys (the user's rules,
 * then the known aliases for keys that still do not fit), infers the class
 * and input-channel counts from the classifier and the stem, and checks every
 * key and shape before any weight is loaded.
 */
import { ShapeError } from '../errors.js';
import { createModel } from '../models/registry.js';
import { weightLayers } from '../nn/inspect.js';
import type { Module } from '../nn/module.js';
import type { RawTensor } from '../nn/safetensors.js';
import { tensor, type Tensor } from '../torch/tensor.js';
import { applyKeyRules, KNOWN_ALIASES, type KeyRule } from './key-map.js';

/** BatchNorm's step counter (PyTorch >= 0.4.1); older checkpoints lack it, and inference never reads it. */
const STEP_COUNTER = 'num_batches_tracked';

export interface FittedModel {
  model: Module;
  numClasses: number;
  inChannels: number;
  /** Source keys that were renamed, as [from, to]. */
  renamed: [string, string][];
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function listFirst(what: string, items: string[]): string | undefined {
  if (items.length === 0) return undefined;
  return `${what} ${items[0]}${items.length > 1 ? ` (and ${items.length - 1} more)` : ''}`;
}

/** Maps every source key to a model key: the user's rules first, the known aliases where those do not fit. */
function mapKeys(source: ReadonlyMap<string, RawTensor>, modelKeys: ReadonlySet<string>, rules: readonly KeyRule[]): Map<string, string> {
  const mapped = new Map<string, string>();
  for (const key of source.keys()) {
    const own = applyKeyRules(key, rules);
    // A key that fits neither way is reported under its aliased name, the nearest to dst's naming.
    mapped.set(key, modelKeys.has(own) ? own : applyKeyRules(own, KNOWN_ALIASES));
  }
  return mapped;
}

/**
 * Builds `modelName` with the class and channel counts the weights imply and
 * loads them; a key or shape that does not fit is one ShapeError listing the
 * first missing, unexpected and mis-shaped keys.
 */
export function fitStateDict(source: ReadonlyMap<string, RawTensor>, modelName: string, rules: readonly KeyRule[], file: string): FittedModel {
  const probe = createModel(modelName);
  let modelKeys: Set<string>;
  let classifierKey: string;
  let stemKey: string;
  try {
    modelKeys = new Set(probe.stateDict().keys());
    const layers = weightLayers(probe);
    classifierKey = `${layers.filter((l) => l.kind === 'linear').at(-1)!.name}.weight`;
    stemKey = `${layers[0]!.name}.weight`;
  } finally {
    probe.dispose();
  }

  const mapped = mapKeys(source, modelKeys, rules);
  const byTarget = new Map<string, string>();
  for (const [from, to] of mapped) {
    const other = byTarget.get(to);
    if (other !== undefined) throw new ShapeError(`${file}: keys '${other}' and '${from}' both map to '${to}': check the --key-map rules`);
    byTarget.set(to, from);
  }
  const sourceOf = (key: string): RawTensor | undefined => {
    const from = byTarget.get(key);
    return from === undefined ? undefined : source.get(from);
  };
  const numClasses = sourceOf(classifierKey)?.shape[0] ?? 10;
  const inChannels = sourceOf(stemKey)?.shape[1];

  const model = createModel(modelName, { numClasses: Math.max(numClasses, 2), inChannels });
  const owned: Tensor[] = [];
  try {
    const own = model.stateDict();
    const missing = [...own].filter(([k]) => !byTarget.has(k) && !k.endsWith(`.${STEP_COUNTER}`)).map(([k, t]) => `${k} ${shapeText(t.shape)}`);
    const unexpected = [...mapped].filter(([, to]) => !own.has(to)).map(([from, to]) => `${from}${from === to ? '' : ` (as ${to})`} ${shapeText(source.get(from)!.shape)}`);
    const misShaped = [...own]
      .filter(([k, t]) => sourceOf(k) !== undefined && shapeText(sourceOf(k)!.shape) !== shapeText(t.shape))
      .map(([k, t]) => `${byTarget.get(k)} is ${shapeText(sourceOf(k)!.shape)}, ${modelName}'s ${k} is ${shapeText(t.shape)}`);
    const problems = [listFirst('missing', missing), listFirst('unexpected', unexpected), listFirst('shape:', misShaped)].filter((p) => p !== undefined);
    if (problems.length > 0) throw new ShapeError(`${file} does not fit ${modelName}: ${problems.join('; ')}`);

    const state = new Map<string, Tensor>();
    for (const key of own.keys()) {
      const raw = sourceOf(key);
      if (raw === undefined) continue;
      const t = tensor(raw.data, raw.shape, raw.dtype);
      owned.push(t);
      state.set(key, t);
    }
    // Not strict: step counters the file lacks keep the model's own (zero) value; every other key was checked above.
    model.loadStateDict(state, false);
    const renamed = [...mapped].filter(([from, to]) => from !== to);
    return { model, numClasses, inChannels: inChannels ?? model.stateDict().get(stemKey)!.shape[1]!, renamed };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    for (const t of owned) t.dispose();
  }
}
