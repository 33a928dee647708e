import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { createModel } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import { readSafetensors } from '../nn/safetensors.js';
import { firstNonFiniteTensor } from '../train/finite.js';
import { loadModelFile } from '../train/model-file.js';
import { noGrad, tensor, type Tensor } from '../torch/tensor.js';

/** A frozen network whose logits teach: eval mode, no gradients, forward under noGrad. */
export class FrozenNetwork {
  constructor(
    readonly model: Module,
    readonly name: string,
    readonly source: string,
  ) {
    model.eval();
    for (const p of model.parameters()) p.requiresGrad = false;
  }

  logits(x: Tensor): Tensor {
    return noGrad(() => this.model.forward(x));
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Loads a teacher from a dst run directory (its model.safetensors names the
 * model), or from a bare safetensors file such as one saved by PyTorch, whose
 * architecture `modelName` names. Its class count must match the data's.
 */
export async function loadTeacher(source: string, numClasses: number, modelName?: string): Promise<FrozenNetwork> {
  if (!existsSync(source)) throw new ConfigError('--teacher', `${source} does not exist`);
  const file = statSync(source).isDirectory() ? path.join(source, 'model.safetensors') : source;
  if (!existsSync(file)) throw new ConfigError('--teacher', `${source} has no model.safetensors: has the teacher run finished?`);
  const { metadata, tensors: raw } = await readSafetensors(file);
  // A diverged teacher would teach NaN, and the student's loss would blame its own learning rate.
  const broken = firstNonFiniteTensor(raw);
  if (broken !== undefined) throw new FormatError(file, `tensor ${broken} holds NaN or infinite values: the teacher diverged; retrain it or choose another --teacher`);
  if (metadata.dst === 'model') {
    const { model, info } = await loadModelFile(file);
    if (info.classes.length !== numClasses) {
      model.dispose();
      throw new ConfigError('--teacher', `${source} predicts ${info.classes.length} classes, the data has ${numClasses}`);
    }
    return new FrozenNetwork(model, info.model, file);
  }
  if (modelName === undefined) throw new ConfigError('--teacher-model', `${file} is not a dst run's model; name its architecture with --teacher-model`);
  const tensors = new Map([...raw].map(([key, r]) => [key, tensor(r.data, r.shape, r.dtype)]));
  const fcKey = [...tensors.keys()].find((k) => /(fc|classifier|linear)\.weight$/.test(k));
  const classes = fcKey === undefined ? numClasses : tensors.get(fcKey)!.shape[0]!;
  if (classes !== numClasses) {
    for (const t of tensors.values()) t.dispose();
    throw new ConfigError('--teacher', `${file} predicts ${classes} classes, the data has ${numClasses}`);
  }
  const conv = [...tensors.entries()].find(([k, t]) => k.endsWith('.weight') && t.rank === 4);
  const model = createModel(modelName, { numClasses, inChannels: conv?.[1].shape[1] });
  try {
    model.loadStateDict(tensors);
  } catch (err) {
    model.dispose();
    throw new FormatError(file, `does not fit model '${modelName}': ${(err as Error).message}`);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return new FrozenNetwork(model, modelName, file);
}
