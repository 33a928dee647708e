import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { openData, type DataSplits } from '../data/open.js';
import type { ProgressCallback } from '../data/progress.js';
import { Pipeline, type TransformSpec } from '../data/transforms.js';
import { createModel } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import { manualSeed, noGrad, zeros } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';
import { saveModelFile, type ModelFileInfo } from './model-file.js';
import type { TrainRecipe } from './recipe.js';
import { RunDir } from './run-dir.js';
import { buildSummary, type RunSummary } from './summary.js';
import { train, type TrainEvent, type TrainHooks } from './trainer.js';

export interface RunControl {
  /** Continue from checkpoints/last.safetensors. */
  resume?: boolean;
  /** Overwrite a finished run or ignore its checkpoints. */
  force?: boolean;
  onEvent?: (event: TrainEvent) => void;
  onDataProgress?: ProgressCallback;
}

/** Refuses to silently overwrite or restart a run; returns whether to resume. */
export function checkRunDir(runDir: RunDir, control: RunControl): boolean {
  if (runDir.isFinished() && !control.force && !control.resume) {
    throw new ConfigError('--out', `${runDir.root} already holds a finished run; choose another --out or pass --force to overwrite it`);
  }
  if (runDir.hasCheckpoint() && !control.resume && !control.force) {
    throw new ConfigError('--out', `${runDir.root} holds an unfinished run; pass --resume to continue it or --force to start over`);
  }
  return Boolean(control.resume) && runDir.hasCheckpoint();
}

export async function openRecipeData(recipe: TrainRecipe, onProgress?: ProgressCallback): Promise<DataSplits> {
  return openData(recipe.data, { ...(recipe.dataOptions as object), onProgress });
}

export function resolvedTransforms(recipe: TrainRecipe, data: DataSplits): { train: TransformSpec[]; test: TransformSpec[] } {
  return { train: recipe.transforms.train ?? data.info.transforms.train, test: recipe.transforms.test ?? data.info.transforms.test };
}

/** The [C, H, W] the network sees after the test transforms. */
export function networkInput(data: DataSplits, transforms: readonly TransformSpec[]): [number, number, number] {
  const { channels, height, width } = data.info;
  const out = new Pipeline(transforms, { channels, height, width, dtype: data.train.images instanceof Uint8Array ? 'uint8' : 'float32' }, { mean: data.info.mean, std: data.info.std }).output;
  return [out.channels, out.height, out.width];
}

export function modelFileInfo(recipe: TrainRecipe, data: DataSplits, transforms: { test: TransformSpec[] }): ModelFileInfo {
  return {
    model: recipe.model,
    classes: [...data.train.classes],
    inChannels: data.info.channels,
    input: networkInput(data, transforms.test),
    transforms: transforms.test,
    stats: { mean: data.info.mean, std: data.info.std },
  };
}

/** Fails early, naming model and input, where LibTorch would fail mid-epoch with a kernel-size message. */
export function checkModelFitsInput(model: Module, name: string, input: [number, number, number]): void {
  try {
    noGrad(() => tidy(() => void model.eval().forward(zeros([1, ...input]))));
  } catch (err) {
    throw new ConfigError('model', `${name} cannot take ${input.join('x')} inputs (${(err as Error).message})`);
  } finally {
    model.train();
  }
}

export interface TrainRunResult {
  summary: RunSummary;
  runDir: RunDir;
}

/** `dst train`: data, model, training, then model.safetensors and summary.json in the run directory. */
export async function trainRun(recipe: TrainRecipe, outDir: string, control: RunControl = {}, hooks?: TrainHooks, model?: Module): Promise<TrainRunResult> {
  const runDir = new RunDir(outDir);
  const resume = checkRunDir(runDir, control);
  const data = await openRecipeData(recipe, control.onDataProgress);
  const transforms = resolvedTransforms(recipe, data);
  manualSeed(recipe.seed);
  const net = model ?? createModel(recipe.model, { numClasses: data.train.classes.length, inChannels: data.info.channels });
  try {
    checkModelFitsInput(net, recipe.model, networkInput(data, transforms.test));
    await runDir.writeRecipe({ ...recipe, transforms });
    const result = await train({ recipe, model: net, data, runDir, transforms, resume, hooks, onEvent: control.onEvent });
    const info = modelFileInfo(recipe, data, transforms);
    await saveModelFile(runDir.model, net, info);
    const summary = buildSummary({
      name: recipe.name ?? path.basename(path.resolve(outDir)),
      modelName: recipe.model,
      model: net,
      input: info.input,
      data: { spec: recipe.data, kind: data.info.kind, classes: info.classes, trainSize: data.train.length, testSize: data.test.length },
      epochs: recipe.epochs,
      final: result.final,
      seconds: result.seconds,
    });
    summary.history = result.history;
    await runDir.writeSummary(summary);
    return { summary, runDir };
  } finally {
    if (model === undefined) net.dispose();
  }
}
