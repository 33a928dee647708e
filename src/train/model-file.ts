import { FormatError } from '../errors.js';
import type { ChannelStats } from '../data/dataset.js';
import type { TransformSpec } from '../data/transforms.js';
import { createModel } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import { loadSafetensors, saveSafetensors } from '../nn/safetensors.js';
import type { Tensor } from '../torch/tensor.js';
import { weightLayers } from '../nn/inspect.js';

const MASK_KEY = 'weight_mask';

/** What a model file says about itself, so eval and export need nothing else. */
export interface ModelFileInfo {
  model: string;
  classes: string[];
  inChannels: number;
  /** [C, H, W] the network sees after the test transforms. */
  input: [number, number, number];
  /** [H, W] images of the dataset arrive at, before any crop (older files lack it). */
  imageSize?: [number, number];
  /** Test-time preprocessing, with the training split's statistics. */
  transforms: TransformSpec[];
  stats: ChannelStats;
}

export async function saveModelFile(file: string, model: Module, info: ModelFileInfo, extra: ReadonlyMap<string, Tensor> = new Map()): Promise<void> {
  const tensors = new Map<string, Tensor>([...model.stateDict(), ...extra]);
  await saveSafetensors(file, tensors, { dst: 'model', info: JSON.stringify(info) });
}

export interface LoadedModel {
  model: Module;
  info: ModelFileInfo;
  /** Tensors in the file that are not part of the model's state dict (e.g. masks), owned by the caller. */
  extra: Map<string, Tensor>;
}

/** Builds the named model and loads its weights; a file that does not fit the model is an error naming the key. */
export async function loadModelFile(file: string, extraPrefixes: readonly string[] = []): Promise<LoadedModel> {
  const { tensors, metadata } = await loadSafetensors(file);
  const extra = new Map<string, Tensor>();
  try {
    if (metadata.dst !== 'model' || metadata.info === undefined) throw new FormatError(file, 'not a dst model file (metadata.info missing)');
    const info = JSON.parse(metadata.info) as ModelFileInfo;
    const model = createModel(info.model, { numClasses: info.classes.length, inChannels: info.inChannels });
    const own = new Map<string, Tensor>();
    for (const [key, t] of tensors) {
      if (extraPrefixes.some((p) => key.startsWith(p))) extra.set(key, t);
      else own.set(key, t);
    }
    // A pruned model carries its masks; install them so the keys exist before the strict load.
    const layers = new Map(weightLayers(model).map((l) => [l.name, l.module]));
    for (const [key, t] of own) {
      if (!key.endsWith(`.${MASK_KEY}`)) continue;
      layers.get(key.slice(0, -MASK_KEY.length - 1))?.setWeightMask(t);
    }
    try {
      model.loadStateDict(own);
    } catch (err) {
      model.dispose();
      throw new FormatError(file, `does not fit model '${info.model}': ${(err as Error).message}`);
    }
    return { model, info, extra };
  } finally {
    for (const t of tensors.values()) if (![...extra.values()].includes(t)) t.dispose();
  }
}
