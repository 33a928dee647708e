/**
 * `dst import`: a foreign state dict becomes a dst run directory that eval,
 * distill --teacher and export read like a trained one. The folder is built
 * under a temporary name beside --out and renamed into place, so a failure
 * leaves nothing half-written.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { openData, type DataSplits } from '../data/open.js';
import type { ProgressCallback } from '../data/progress.js';
import type { TransformSpec } from '../data/transforms.js';
import { modelEntry } from '../models/registry.js';
import type { Module } from '../nn/module.js';
import { evaluate } from '../train/evaluate.js';
import { saveModelFile, type ModelFileInfo } from '../train/model-file.js';
import { RunDir } from '../train/run-dir.js';
import { checkModelFitsInput, networkInput } from '../train/run.js';
import { buildSummary, sparsityStats } from '../train/summary.js';
import { fitStateDict } from './fit.js';
import { parseKeyRule } from './key-map.js';
import { readStateDict, type SourceStateDict } from './state-dict.js';

export interface ImportOptions {
  /** dst architecture the weights belong to, e.g. 'resnet20'. */
  model: string;
  /** Key renaming rules, `FROM=TO` or `^FROM=TO` (key-map.ts). */
  keyMap?: readonly string[];
  /** Data spec whose classes, image size and test pipeline the model gets; its test split is evaluated. */
  data?: string;
  dataOptions?: Record<string, unknown>;
  /** Class names when no data is given (default: class0, class1, ...). */
  classes?: readonly string[];
  /** Normalisation the weights were trained with, per channel in [0, 1] pixel units (default: the data's statistics, else none). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Replace an existing --out folder. */
  force?: boolean;
  batchSize?: number;
  onDataProgress?: ProgressCallback;
}

export interface ImportResult {
  runDir: RunDir;
  source: SourceStateDict;
  info: ModelFileInfo;
  renamed: [string, string][];
  /** Top-1 on the data's test split, when data was given. */
  top1: number | null;
}

function checkChannels(values: readonly number[] | undefined, channels: number, option: string): void {
  if (values !== undefined && values.length !== channels) throw new ConfigError(option, `gives ${values.length} values, the model takes ${channels} input channels`);
}

/** Classes, preprocessing and input shape: from the data when given, else from the options. */
function describeModel(options: ImportOptions, numClasses: number, inChannels: number, data: DataSplits | null): ModelFileInfo {
  checkChannels(options.mean, inChannels, '--mean');
  checkChannels(options.std, inChannels, '--std');
  const given = options.mean !== undefined && options.std !== undefined ? { mean: [...options.mean], std: [...options.std] } : null;
  if ((options.mean === undefined) !== (options.std === undefined)) throw new ConfigError(options.mean ? '--std' : '--mean', 'give --mean and --std together');
  if (data !== null) {
    const classes = [...data.train.classes];
    if (classes.length !== numClasses) throw new ConfigError('--data', `${options.data} has ${classes.length} classes, the weights predict ${numClasses}`);
    if (data.info.channels !== inChannels) throw new ConfigError('--data', `${options.data} has ${data.info.channels}-channel images, the weights take ${inChannels}`);
    const transforms = data.info.transforms.test;
    return {
      model: options.model,
      classes,
      inChannels,
      input: networkInput(data, transforms),
      imageSize: [data.info.height, data.info.width],
      transforms,
      stats: given ?? { mean: data.info.mean, std: data.info.std },
    };
  }
  const classes = options.classes ? [...options.classes] : Array.from({ length: numClasses }, (_, i) => `class${i}`);
  if (classes.length !== numClasses) throw new ConfigError('--classes', `names ${classes.length} classes, the weights predict ${numClasses}`);
  const [, height, width] = modelEntry(options.model).defaultInput;
  const transforms: TransformSpec[] = given ? [{ op: 'toFloat' }, { op: 'normalize' }] : [{ op: 'toFloat' }];
  return {
    model: options.model,
    classes,
    inChannels,
    input: [inChannels, height, width],
    transforms,
    stats: given ?? { mean: new Array<number>(inChannels).fill(0), std: new Array<number>(inChannels).fill(1) },
  };
}

async function summaryOf(model: Module, info: ModelFileInfo, options: ImportOptions, data: DataSplits | null, name: string, started: number): Promise<{ summary: object; top1: number | null }> {
  if (data !== null) {
    const { predictions: _, ...final } = await evaluate(model, data.test, info.classes.length, { batchSize: options.batchSize ?? 256, transforms: info.transforms, stats: info.stats });
    const summary = buildSummary({
      name,
      modelName: options.model,
      model,
      input: info.input,
      data: { spec: options.data!, kind: data.info.kind, classes: info.classes, trainSize: data.train.length, testSize: data.test.length },
      epochs: 0,
      final: { ...final, predictions: new Int32Array(0) },
      seconds: (Date.now() - started) / 1000,
    });
    return { summary, top1: final.top1 };
  }
  // Nothing was measured: the accuracy fields are null rather than a made-up number.
  const stats = sparsityStats(model, info.input);
  const summary = {
    name,
    model: options.model,
    data: { spec: null, kind: 'none', classes: info.classes, trainSize: 0, testSize: 0 },
    epochs: 0,
    top1: null,
    top5: null,
    loss: null,
    perClassAccuracy: {},
    confusion: [],
    params: stats.params,
    allParams: model.parameterCount(),
    nonZeros: stats.nonZeros,
    sparsity: stats.sparsity,
    denseMacs: stats.denseMacs,
    effectiveMacs: stats.effectiveMacs,
    uniform: stats.uniform,
    layers: stats.layers,
    seconds: (Date.now() - started) / 1000,
  };
  return { summary, top1: null };
}

/** Moves the finished temporary folder to `out`, replacing an old one only when forced. */
async function publish(tmp: string, out: string, force: boolean): Promise<void> {
  if (!existsSync(out)) {
    await fs.rename(tmp, out);
    return;
  }
  const old = `${out}.old-${process.pid}-${Date.now()}`;
  if (!force) throw new ConfigError('--out', `${out} already exists; choose another --out or pass --force to replace it`);
  await fs.rename(out, old);
  await fs.rename(tmp, out);
  await fs.rm(old, { recursive: true, force: true });
}

export async function importRun(file: string, out: string, options: ImportOptions): Promise<ImportResult> {
  const started = Date.now();
  const rules = (options.keyMap ?? []).map((text) => parseKeyRule(text));
  const target = path.resolve(out);
  if (existsSync(target) && !options.force) throw new ConfigError('--out', `${out} already exists; choose another --out or pass --force to replace it`);
  const source = await readStateDict(file);
  const fitted = fitStateDict(source.tensors, options.model, rules, file);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    const data = options.data === undefined ? null : await openData(options.data, { ...options.dataOptions, onProgress: options.onDataProgress });
    const info = describeModel(options, fitted.numClasses, fitted.inChannels, data);
    checkModelFitsInput(fitted.model, options.model, info.input);
    const runDir = new RunDir(tmp);
    const name = path.basename(target);
    await runDir.writeRecipe({
      name,
      model: options.model,
      ...(options.data !== undefined ? { data: options.data, dataOptions: options.dataOptions ?? {} } : {}),
      transforms: { test: info.transforms },
      imported: { from: path.resolve(file), format: source.format, entry: source.entry, keyMap: rules.map((r) => r.text), renamed: fitted.renamed.length },
    });
    await saveModelFile(runDir.model, fitted.model, info);
    const { summary, top1 } = await summaryOf(fitted.model, info, options, data, name, started);
    await runDir.writeSummary({ ...summary, method: 'import', teacher: null, pattern: 'dense', imported: path.resolve(file) });
    await publish(tmp, target, options.force ?? false);
    return { runDir: new RunDir(target), source, info, renamed: fitted.renamed, top1 };
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    fitted.model.dispose();
  }
}
