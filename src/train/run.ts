import * as path from 'node:path';
import { ConfigError, DstError } from '../errors.js';
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
import { inRunFolder } from './run-folder.js';
import { checkResumeRecipe } from './resume-check.js';
import { checkLabels } from './label-check.js';
import { buildSummary, type RunSummary } from './summary.js';
import { train, type TrainEvent, type TrainHooks } from './trainer.js';
import { formatPattern, type Pattern } from '../sparsity/pattern.js';
import { LiveCurves } from '../plot/run-curves.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { DataParallel } from './data-parallel.js';

export interface RunControl {
  /** Continue from checkpoints/last.safetensors. */
  resume?: boolean;
  /** Overwrite a finished run or ignore its checkpoints. */
  force?: boolean;
  /** Resume even with settings that differ from the run's, recording them in changes.jsonl. */
  allowChanges?: boolean;
  onEvent?: (event: TrainEvent) => void;
  onDataProgress?: ProgressCallback;
  /**
   * Train data-parallel over this process group (one process per rank, all
   * running the same command): rank 0 alone decides, reads the checkpoint and
   * writes the run folder; every rank trains on its part of each batch.
   */
  group?: ProcessGroup;
}

/** Whether this process writes the run folder: the only one, or rank 0 of a group. */
export function writesRun(control: RunControl): boolean {
  return (control.group?.rank ?? 0) === 0;
}

/**
 * `decide` on rank 0 (the run folder's host), its result on every rank: for
 * the choices that depend on what the folder holds. When rank 0 refuses, the
 * others stop with its reason instead of waiting for a rank that has left.
 */
export async function decidedByRoot<T>(control: RunControl, decide: () => T | Promise<T>): Promise<T> {
  const group = control.group;
  if (group === undefined) return decide();
  if (group.rank === 0) {
    let value: T;
    try {
      value = await decide();
    } catch (err) {
      group.shareFromRoot({ error: (err as Error).message });
      throw err;
    }
    return group.shareFromRoot({ value }).value as T;
  }
  const shared = group.shareFromRoot<{ value?: T; error?: string }>({});
  if (shared.error !== undefined) throw new DstError('E_DISTRIBUTED', `rank 0 stopped: ${shared.error}`);
  return shared.value as T;
}

/**
 * Holds `dir` for `work` on the process that writes it (see inRunFolder); the
 * other ranks of a group run `work` without touching the folder.
 */
export async function inRunFolderOf<T>(control: RunControl, dir: string, keep: () => boolean, work: () => Promise<T>): Promise<T> {
  return writesRun(control) ? inRunFolder(dir, keep, work) : work();
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
  const data = await openData(recipe.data, { ...(recipe.dataOptions as object), onProgress });
  checkLabels(recipe.data, [data.train, data.test]);
  return data;
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
    imageSize: [data.info.height, data.info.width],
    transforms: transforms.test,
    stats: { mean: data.info.mean, std: data.info.std },
  };
}

/** Fails early, naming model and input, where LibTorch would fail mid-epoch with a kernel-size message. */
export function checkModelFitsInput(model: Module, name: string, input: [number, number, number]): void {
  const wasTraining = model.training;
  try {
    noGrad(() => tidy(() => void model.eval().forward(zeros([1, ...input]))));
  } catch (err) {
    throw new ConfigError('model', `${name} cannot take ${input.join('x')} inputs (${(err as Error).message})`);
  } finally {
    model.train(wasTraining);
  }
}

export interface TrainRunResult {
  summary: RunSummary;
  runDir: RunDir;
}

export interface StageOptions {
  recipe: TrainRecipe;
  runDir: RunDir;
  data: DataSplits;
  model: Module;
  resume: boolean;
  control: RunControl;
  hooks?: TrainHooks;
  /** Masks and pattern for the summary's sparsity statistics and uniformity check. */
  masks?: () => ReadonlyMap<string, Uint8Array>;
  pattern?: Pattern;
  /** Extra keys for summary.json (method, teacher, ...). */
  extras?: Record<string, unknown>;
  /** Settings outside the train recipe that define the run (distillation, pruning), recorded in recipe.yaml. */
  settings?: Record<string, unknown>;
}

/** A pruning run ends only with weights that hold its pattern: a model that is not what it claims is never written. */
export function checkPatternMet(summary: RunSummary, pattern: Pattern, runDir: RunDir): void {
  if (summary.uniform !== false) return;
  const layers = summary.layers.filter((l) => l.uniform === false).map((l) => l.name);
  throw new DstError('E_PATTERN', `the final weights of ${layers.join(', ')} do not hold ${formatPattern(pattern)}; no model was written; the last checkpoint is ${runDir.lastCheckpoint}`);
}

/** Trains `model` in `runDir` (curves.svg redrawn each epoch), then writes model.safetensors, summary.json and the final curves.svg there. */
export async function runStage(stage: StageOptions): Promise<RunSummary> {
  const { recipe, runDir, data, model } = stage;
  const transforms = resolvedTransforms(recipe, data);
  const info = modelFileInfo(recipe, data, transforms);
  checkModelFitsInput(model, recipe.model, info.input);
  const written = { ...recipe, transforms, ...(stage.extras ? { resolved: stage.extras } : {}), ...(stage.settings ? { settings: stage.settings } : {}) };
  const writes = writesRun(stage.control);
  await decidedByRoot(stage.control, async () => {
    if (stage.resume) await checkResumeRecipe(runDir, written, Boolean(stage.control.allowChanges));
    await runDir.writeRecipe(written);
  });
  const name = recipe.name ?? path.basename(path.resolve(runDir.root));
  const curves = writes ? new LiveCurves(runDir, name) : undefined;
  const onEvent = (event: TrainEvent): void => {
    stage.control.onEvent?.(event);
    if (event.kind === 'epoch') curves?.epochDone(event.history);
  };
  const parallel = stage.control.group ? new DataParallel(stage.control.group, model) : undefined;
  const result = await train({ recipe, model, data, runDir, transforms, resume: stage.resume, hooks: stage.hooks, onEvent, parallel });
  const summary = buildSummary({
    name,
    modelName: recipe.model,
    model,
    input: info.input,
    data: { spec: recipe.data, kind: data.info.kind, classes: info.classes, trainSize: data.train.length, testSize: data.test.length },
    epochs: recipe.epochs,
    final: result.final,
    seconds: result.seconds,
    masks: stage.masks?.(),
    pattern: stage.pattern,
  });
  Object.assign(summary, stage.extras ?? {}, { history: result.history });
  if (stage.pattern !== undefined) checkPatternMet(summary, stage.pattern, runDir);
  if (writes) {
    await saveModelFile(runDir.model, model, info);
    await runDir.writeSummary(summary);
    await curves?.finish(result.history);
  }
  return summary;
}

/** `dst train`: data, model, training, then model.safetensors and summary.json in the run directory, which it holds exclusively meanwhile. */
export async function trainRun(recipe: TrainRecipe, outDir: string, control: RunControl = {}): Promise<TrainRunResult> {
  const runDir = new RunDir(outDir);
  return inRunFolderOf(control, outDir, () => runDir.hasCheckpoint(), async () => {
    const resume = await decidedByRoot(control, () => checkRunDir(runDir, control));
    const data = await openRecipeData(recipe, control.onDataProgress);
    manualSeed(recipe.seed);
    const model = createModel(recipe.model, { numClasses: data.train.classes.length, inChannels: data.info.channels });
    try {
      const summary = await runStage({ recipe, runDir, data, model, resume, control });
      return { summary, runDir };
    } finally {
      model.dispose();
    }
  });
}
