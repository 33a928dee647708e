/**
 * A student run that ends with quantization-aware fine-tuning: its float
 * epochs, then `quant.epochs` more on the model as the int8 export will run
 * it, in one run folder with one history, one checkpoint and one summary.
 * The activation grids are calibrated once when the float epochs are done,
 * recorded in the run folder before the first fake-quantized step, and read
 * back when a run resumes inside its quantized epochs.
 */
import * as path from 'node:path';
import { modelGraph } from '../export/from-run.js';
import type { Module } from '../nn/module.js';
import { LiveCurves } from '../plot/run-curves.js';
import { fakeQuantModel } from '../quant/fake-quant-model.js';
import { WEIGHT_CODE_MAX } from '../quant/params.js';
import { checkQuantizable, quantizeGraph } from '../quant/quantize.js';
import { DEFAULT_CALIBRATION_IMAGES, DEFAULT_CALIBRATION_METHOD } from '../quant/ranges.js';
import { RANGES_FILE, readRecordedRanges, writeRecordedRanges, type RecordedRanges } from '../quant/recorded-ranges.js';
import { runCalibrationSet } from '../quant/run-data.js';
import { checkpointEpoch } from '../train/checkpoint-epoch.js';
import { DataParallel } from '../train/data-parallel.js';
import { saveModelFile, type ModelFileInfo } from '../train/model-file.js';
import type { TrainRecipe } from '../train/recipe.js';
import { checkResumeRecipe } from '../train/resume-check.js';
import type { RunDir } from '../train/run-dir.js';
import { checkModelFitsInput, checkPatternMet, decidedByRoot, modelFileInfo, resolvedTransforms, writesRun, type RunControl, type StageOptions } from '../train/run.js';
import { buildSummary, type RunSummary } from '../train/summary.js';
import { train, type TrainEvent, type TrainHooks } from '../train/trainer.js';
import type { QuantRecipe } from './recipe.js';

/** The student as its float epochs left it, beside the fine-tuned model: what a pruning run started from this one starts from. */
export const FLOAT_MODEL = 'float.safetensors';

const CALIBRATION_LABEL = 'quant calibration';

/** The learning rate of the quantized epochs: the recipe's, else 1% of the float stage's. */
export function quantLr(quant: QuantRecipe, recipe: TrainRecipe): number {
  return quant.lr ?? recipe.optimizer.lr / 100;
}

/** The recipe of the quantized epochs: epochs counted on from the float ones, the quantized rate and schedule, no BatchNorm re-estimation. */
export function quantTrainRecipe(recipe: TrainRecipe, quant: QuantRecipe): TrainRecipe {
  const floatEpochs = recipe.epochs;
  return {
    ...recipe,
    epochs: floatEpochs + quant.epochs,
    optimizer: { ...recipe.optimizer, lr: quantLr(quant, recipe) },
    // A cosine over the quantized epochs only: the schedule's warm-up span covers the float epochs, which this recipe never trains.
    schedule: quant.schedule === 'cosine' ? { ...recipe.schedule, kind: 'cosine', warmupEpochs: floatEpochs, minLrFraction: 0 } : { ...recipe.schedule, kind: 'constant', warmupEpochs: 0 },
    // Re-estimating BatchNorm would move the folded weights away from what the quantized epochs trained.
    recalibrateBn: 0,
  };
}

/**
 * Calibrates the activation ranges of the float model with the int8
 * export's defaults (method, image count, training split through the test
 * pipeline) and records them with the float model, before any quantized step.
 */
async function calibrate(runDir: RunDir, model: Module, info: ModelFileInfo, control: RunControl): Promise<RecordedRanges> {
  const set = await runCalibrationSet(runDir.root, info, { count: DEFAULT_CALIBRATION_IMAGES, label: CALIBRATION_LABEL, onProgress: control.onDataProgress });
  const method = DEFAULT_CALIBRATION_METHOD;
  const stage = `calibrating int8 (${method}) on ${set.count} training images`;
  const graph = quantizeGraph(modelGraph(model, info.input), set, {
    method,
    label: CALIBRATION_LABEL,
    onProgress: (done, total, pass, passes) => control.onDataProgress?.({ stage: `${stage}, pass ${pass}/${passes}`, done, total }),
  });
  const ranges: RecordedRanges = {
    format: 'dst-quant-ranges',
    version: 1,
    calibration: { method, images: set.count, data: set.spec },
    weightCodeMax: WEIGHT_CODE_MAX,
    values: graph.quant!.values,
  };
  await saveModelFile(path.join(runDir.root, FLOAT_MODEL), model, info);
  await writeRecordedRanges(path.join(runDir.root, RANGES_FILE), ranges);
  return ranges;
}

/**
 * runStage's run with `quant.epochs` quantization-aware epochs after
 * `stage.recipe.epochs` float ones: the same hooks (loss, masks) throughout,
 * BatchNorm statistics frozen, test top-1 of the
 * fake-quantized model in the quantized epochs' metrics and in the summary.
 * The learning rate is constant, or a cosine from `quant.lr` to zero.
 */
export async function runQuantStage(stage: StageOptions, quant: QuantRecipe): Promise<RunSummary> {
  const { recipe, runDir, data, model, control } = stage;
  const floatEpochs = recipe.epochs;
  const quantRecipe = quantTrainRecipe(recipe, quant);
  const { epochs } = quantRecipe;
  const transforms = resolvedTransforms(recipe, data);
  const info = modelFileInfo(recipe, data, transforms);
  checkModelFitsInput(model, recipe.model, info.input);
  // A model the int8 engine cannot run fails now, not after its float epochs.
  checkQuantizable(modelGraph(model, info.input));
  const written = { ...recipe, transforms, ...(stage.extras ? { resolved: stage.extras } : {}), ...(stage.settings ? { settings: stage.settings } : {}) };
  const reached = await decidedByRoot(control, async () => {
    if (stage.resume) await checkResumeRecipe(runDir, written, Boolean(control.allowChanges));
    await runDir.writeRecipe(written);
    return stage.resume ? (checkpointEpoch(runDir.lastCheckpoint) ?? 0) : 0;
  });
  const writes = writesRun(control);
  const name = recipe.name ?? path.basename(path.resolve(runDir.root));
  const curves = writes ? new LiveCurves(runDir, name) : undefined;
  const onEvent = (event: TrainEvent): void => {
    control.onEvent?.(event);
    if (event.kind === 'epoch') curves?.epochDone(event.history);
  };
  const parallel = control.group ? new DataParallel(control.group, model) : undefined;
  const floatPhase = reached <= floatEpochs;
  if (floatPhase) {
    // Progress counts every epoch of the run, the quantized ones included.
    const floatEvent = (event: TrainEvent): void => {
      if (event.kind === 'step') {
        const quantSeconds = (quant.epochs * event.stepsPerEpoch * recipe.batchSize) / Math.max(event.imagesPerSecond, 1e-9);
        onEvent({ ...event, epochs, etaSeconds: event.etaSeconds + quantSeconds });
      } else if (event.kind === 'eval') onEvent(event);
      else onEvent({ ...event, epochs });
    };
    await train({ recipe, model, data, runDir, transforms, resume: stage.resume, hooks: stage.hooks, onEvent: floatEvent, parallel });
  }
  const rangesFile = path.join(runDir.root, RANGES_FILE);
  const ranges = await decidedByRoot(control, () => (floatPhase ? calibrate(runDir, model, info, control) : readRecordedRanges(rangesFile)));
  const quantized = fakeQuantModel(model, info.input, ranges.values, ranges.weightCodeMax, rangesFile);
  const hooks: TrainHooks = { ...stage.hooks, epochMetrics: (epoch) => ({ ...stage.hooks?.epochMetrics?.(epoch), qat: 1 }) };
  // Straight after the float epochs the run goes on: no second start line.
  const quantEvent = (event: TrainEvent): void => {
    if (!(floatPhase && event.kind === 'start')) onEvent(event);
  };
  const result = await train({ recipe: quantRecipe, model: quantized, data, runDir, transforms, resume: true, hooks, onEvent: quantEvent, parallel });
  const summary = buildSummary({
    name,
    modelName: recipe.model,
    model,
    input: info.input,
    data: { spec: recipe.data, kind: data.info.kind, classes: info.classes, trainSize: data.train.length, testSize: data.test.length },
    epochs,
    final: result.final,
    seconds: result.seconds,
    masks: stage.masks?.(),
    pattern: stage.pattern,
  });
  const floatTop1 = result.history[floatEpochs - 1]?.testTop1 ?? null;
  Object.assign(summary, stage.extras ?? {}, { quant: { epochs: quant.epochs, lr: quantRecipe.optimizer.lr, schedule: quant.schedule ?? 'constant', floatTop1, ranges: RANGES_FILE, floatModel: FLOAT_MODEL, calibration: ranges.calibration }, history: result.history });
  if (stage.pattern !== undefined) checkPatternMet(summary, stage.pattern, stage.runDir);
  if (writes) {
    await saveModelFile(runDir.model, model, info);
    await runDir.writeSummary(summary);
    await curves?.finish(result.history);
  }
  return summary;
}
