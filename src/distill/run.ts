import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import type { DataSplits } from '../data/open.js';
import { createModel } from '../models/registry.js';
import * as F from '../nn/functional.js';
import type { Module } from '../nn/module.js';
import { formatPattern, parsePattern, type Pattern } from '../sparsity/pattern.js';
import { PruningController, installedMasks } from '../sparsity/training.js';
import { loadModelFile } from '../train/model-file.js';
import type { TrainRecipe } from '../train/recipe.js';
import { RunDir } from '../train/run-dir.js';
import { checkModelFitsInput, checkRunDir, decidedByRoot, inRunFolderOf, networkInput, openRecipeData, resolvedTransforms, runStage, type RunControl, type StageOptions } from '../train/run.js';
import { broadcastModule } from '../train/data-parallel.js';
import { masksFromRoot } from './mask-sync.js';
import type { RunSummary } from '../train/summary.js';
import type { TrainHooks } from '../train/trainer.js';
import { manualSeed } from '../torch/tensor.js';
import { dstLoss, kdLoss } from './losses.js';
import { FLOAT_MODEL, runQuantStage } from './quant-stage.js';
import { defaultSparsity, denseStart, needsTeacher, type DistillRecipe, type QuantRecipe } from './recipe.js';
import { FrozenNetwork, loadTeacher } from './teacher.js';

export interface DistillResult {
  summary: RunSummary;
  runDir: RunDir;
}

function trainPart(recipe: DistillRecipe): TrainRecipe {
  const { method: _m, teacher: _t, teacherModel: _tm, init: _i, sparsity: _s, kd: _k, dst: _d, prune: _p, quant: _q, ...train } = recipe;
  return train;
}

/** Checks what the method needs before any data is read or anything is written. */
export function resolvePattern(recipe: DistillRecipe): Pattern | undefined {
  const spec = recipe.sparsity ?? defaultSparsity(recipe.method);
  if (recipe.method === 'scratch' || recipe.method === 'kd') {
    if (recipe.sparsity !== undefined) throw new ConfigError('--sparsity', `method ${recipe.method} does not prune; use prune, unstructured-kd or dst`);
    return undefined;
  }
  if (needsTeacher(recipe.method) && recipe.teacher === undefined) throw new ConfigError('--teacher', `method ${recipe.method} needs a teacher run`);
  const pattern = parsePattern(spec!, '--sparsity');
  if (pattern.kind === 'dense') throw new ConfigError('--sparsity', `method ${recipe.method} needs a sparsity pattern`);
  const { epochs, gradualEpochs } = recipe.prune;
  // The ramp moves the masks up to its last step; only epochs after it train with the final pattern fixed.
  if (gradualEpochs > epochs - 1) {
    throw new ConfigError(
      '--gradual-epochs (prune.gradualEpochs)',
      `a ramp of ${gradualEpochs} epochs leaves no epoch with fixed masks in a pruning stage of ${epochs} (--prune-epochs, prune.epochs); make it at most ${epochs - 1} or give more pruning epochs`,
    );
  }
  return pattern;
}

/** Recorded in recipe.yaml only when set, so runs without quantization-aware epochs resume as before. */
function quantSettings(quant: QuantRecipe | undefined): { quant?: QuantRecipe } {
  return quant === undefined ? {} : { quant };
}

/** The student's run, with its quantization-aware epochs when the recipe asks for them. */
function studentStage(stage: StageOptions, quant: QuantRecipe | undefined): Promise<RunSummary> {
  return quant === undefined ? runStage(stage) : runQuantStage(stage, quant);
}

function kdHooks(teacher: FrozenNetwork, recipe: DistillRecipe): TrainHooks {
  return { loss: (logits, labels, x) => kdLoss(logits, teacher.logits(x), labels, recipe.kd) };
}

/** The dense stage a pruning method starts from: `init`, or a run of its own in `<out>/dense`. */
async function denseStage(recipe: DistillRecipe, out: string, data: DataSplits, teacher: FrozenNetwork | null, control: RunControl): Promise<string> {
  if (recipe.init !== undefined) {
    const init = new RunDir(recipe.init);
    await decidedByRoot(control, () => {
      if (!init.isFinished()) throw new ConfigError('--init', `${recipe.init} is not a finished run`);
    });
    return init.root;
  }
  const runDir = new RunDir(path.join(out, 'dense'));
  return inRunFolderOf(control, runDir.root, () => runDir.hasCheckpoint(), async () => {
    const state = await decidedByRoot(control, () => ({ finished: runDir.isFinished(), checkpoint: runDir.hasCheckpoint() }));
    if (state.finished && !control.force) return runDir.root;
    const method = denseStart(recipe) ?? 'kd';
    await trainDense({ ...recipe, method, name: `${recipe.name ?? path.basename(out)}-dense`, quant: undefined }, runDir, data, teacher, { ...control, resume: state.checkpoint && !control.force });
    return runDir.root;
  });
}

async function trainDense(recipe: DistillRecipe, runDir: RunDir, data: DataSplits, teacher: FrozenNetwork | null, control: RunControl): Promise<RunSummary> {
  manualSeed(recipe.seed);
  const model = createModel(recipe.model, { numClasses: data.train.classes.length, inChannels: data.info.channels });
  try {
    return await studentStage(
      {
        recipe: trainPart(recipe),
        runDir,
        data,
        model,
        resume: await decidedByRoot(control, () => Boolean(control.resume) && runDir.hasCheckpoint()),
        control,
        hooks: recipe.method === 'kd' && teacher ? kdHooks(teacher, recipe) : {},
        extras: { method: recipe.method, teacher: teacher?.source ?? null, pattern: 'dense' },
        settings: { ...(recipe.method === 'kd' ? { kd: recipe.kd } : {}), ...quantSettings(recipe.quant) },
      },
      recipe.quant,
    );
  } finally {
    model.dispose();
  }
}

/**
 * The dense student a pruning stage starts from. Data-parallel, only rank 0
 * reads it (its host holds the run folder); the others build the same
 * architecture and receive rank 0's weights by broadcast.
 */
async function studentFrom(dir: string, recipe: DistillRecipe, data: DataSplits, control: RunControl): Promise<Module> {
  if (control.group === undefined) return loadDense(dir, recipe, data);
  let model: Module | undefined;
  await decidedByRoot(control, async () => {
    model = await loadDense(dir, recipe, data);
  });
  model ??= createModel(recipe.model, { numClasses: data.train.classes.length, inChannels: data.info.channels });
  return model;
}

/** A run that ended with quantization-aware epochs hands on its float model: a pruning run starts from what the float epochs learned. */
async function loadDense(dir: string, recipe: DistillRecipe, data: DataSplits): Promise<Module> {
  const run = new RunDir(dir);
  const quantized = (await run.readSummary<RunSummary>()).quant !== undefined;
  const { model, info } = await loadModelFile(quantized ? path.join(dir, FLOAT_MODEL) : run.model);
  if (info.model !== recipe.model) {
    model.dispose();
    throw new ConfigError('--init', `${dir} holds a ${info.model}, the recipe's student is ${recipe.model}`);
  }
  if (info.classes.length !== data.train.classes.length) {
    model.dispose();
    throw new ConfigError('--init', `${dir} predicts ${info.classes.length} classes, the data has ${data.train.classes.length}`);
  }
  return model;
}

/** The pruning stage: masks on the schedule, then fixed masks with the method's loss. */
async function pruneStage(
  recipe: DistillRecipe,
  pattern: Pattern,
  runDir: RunDir,
  denseDir: string,
  data: DataSplits,
  teacher: FrozenNetwork | null,
  control: RunControl,
  resume: boolean,
): Promise<RunSummary> {
  const base = trainPart(recipe);
  const stageRecipe: TrainRecipe = {
    ...base,
    epochs: recipe.prune.epochs,
    optimizer: { ...base.optimizer, ...recipe.prune.optimizer },
    schedule: { ...base.schedule, ...recipe.prune.schedule },
  };
  manualSeed(recipe.seed);
  const model = await studentFrom(denseDir, recipe, data, control);
  const denseStudent = recipe.method === 'dst' && recipe.dst.beta > 0 ? new FrozenNetwork(await studentFrom(denseDir, recipe, data, control), recipe.model, denseDir) : null;
  if (denseStudent !== null && control.group) broadcastModule(control.group, denseStudent.model);
  try {
    const stepsPerEpoch = Math.max(1, Math.floor(data.train.length / stageRecipe.batchSize));
    const controller = new PruningController(model, pattern, recipe.prune, stepsPerEpoch);
    controller.install();
    const syncMasks = control.group ? masksFromRoot(control.group, controller) : undefined;
    const hooks: TrainHooks = {
      onStart: (step) => controller.start(step),
      beforeStep: () => controller.beforeStep(),
      afterStep: (info) => {
        const moving = !controller.fixed;
        controller.afterStep(info.globalStep);
        if (moving) syncMasks?.(info.globalStep + 1);
      },
      epochMetrics: () => ({ sparsity: controller.sparsity() }),
      loss: (logits, labels, x) => {
        if (recipe.method === 'prune' || teacher === null) return F.crossEntropy(logits, labels, { labelSmoothing: recipe.labelSmoothing });
        const t = teacher.logits(x);
        // DST's dense-student term starts once the masks are fixed (DESIGN §5, step 4).
        if (recipe.method === 'dst' && controller.fixed) return dstLoss(logits, t, denseStudent?.logits(x) ?? null, labels, { ...recipe.kd, beta: recipe.dst.beta });
        return kdLoss(logits, t, labels, recipe.kd);
      },
    };
    return await studentStage(
      {
        recipe: stageRecipe,
        runDir,
        data,
        model,
        resume,
        control,
        hooks,
        masks: () => installedMasks(model),
        pattern,
        extras: { method: recipe.method, teacher: teacher?.source ?? null, pattern: formatPattern(pattern), denseRun: denseDir },
        settings: { kd: recipe.kd, dst: recipe.dst, prune: recipe.prune, ...quantSettings(recipe.quant) },
      },
      recipe.quant,
    );
  } finally {
    model.dispose();
    denseStudent?.dispose();
  }
}

/** `dst distill`: one method of DESIGN §5, its stages resumable, each stage's folder held exclusively while it runs. */
export async function distillRun(recipe: DistillRecipe, outDir: string, control: RunControl = {}): Promise<DistillResult> {
  const pattern = resolvePattern(recipe);
  const runDir = new RunDir(outDir);
  const dense = new RunDir(path.join(outDir, 'dense'));
  return inRunFolderOf(control, outDir, () => runDir.hasCheckpoint() || dense.hasCheckpoint() || dense.isFinished(), async () => {
    const resume = await decidedByRoot(control, () => checkRunDir(runDir, control));
    const data = await openRecipeData(trainPart(recipe), control.onDataProgress);
    const teacher = needsTeacher(recipe.method) ? await loadTeacher(recipe.teacher!, data.train.classes.length, recipe.teacherModel) : null;
    try {
      if (teacher) checkModelFitsInput(teacher.model, `teacher ${teacher.name}`, networkInput(data, resolvedTransforms(trainPart(recipe), data).test));
      if (pattern === undefined) return { summary: await trainDense(recipe, runDir, data, teacher, { ...control, resume }), runDir };
      const denseDir = await denseStage(recipe, outDir, data, teacher, control);
      return { summary: await pruneStage(recipe, pattern, runDir, denseDir, data, teacher, control, resume), runDir };
    } finally {
      teacher?.dispose();
    }
  });
}
