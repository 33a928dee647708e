/** openData: a spec string and options in, train/test datasets and their statistics out. */
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { readCifar } from './cifar.js';
import { type ArrayDataset, channelStats } from './dataset.js';
import { findChild, requirePath } from './files.js';
import { readImageFolder } from './folder.js';
import { readFusar } from './fusar.js';
import { readMstar } from './mstar.js';
import { readOpenSarShip } from './opensarship.js';
import type { ProgressCallback } from './progress.js';
import { type DataKind, type DataOptionValues, parseDataSpec, resolveDataOptions } from './spec.js';
import { makeSynthetic } from './synthetic.js';
import { defaultTransforms, type TransformSpec } from './transforms.js';

export interface OpenDataOptions extends DataOptionValues {
  onProgress?: ProgressCallback;
}

export interface DataInfo {
  kind: DataKind;
  /** Absolute path read, or 'synthetic'. */
  source: string;
  /**
   * How the source was laid out, e.g. 'binary', 'archive', 'folder', 'jpeg', 'phoenix', 'zips', 'generated';
   * for folder data also which folders or lists were read, e.g. 'folder: train/ + val/ folders'.
   */
  layout: string;
  /** Every option with its resolved value, for the run record. */
  options: Required<Pick<DataOptionValues, 'seed'>> & DataOptionValues;
  channels: number;
  height: number;
  width: number;
  /** Per channel, on the training split, in toFloat units (8-bit pixels / 255). */
  mean: number[];
  std: number[];
  /** The kind's default pipelines, sized for this data. */
  transforms: { train: TransformSpec[]; test: TransformSpec[] };
}

export interface DataSplits {
  train: ArrayDataset;
  test: ArrayDataset;
  info: DataInfo;
}

function square(size: number | readonly [number, number]): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

export async function openData(spec: string, options: OpenDataOptions = {}): Promise<DataSplits> {
  const { onProgress, ...values } = options;
  const parsed = parseDataSpec(spec);
  const opts = resolveDataOptions(parsed, values);
  const seed = opts.seed ?? 0;
  const cacheDir = opts.cacheDir === false ? undefined : path.resolve(opts.cacheDir ?? path.join('.cache', 'dst'));
  const source = parsed.path ?? 'synthetic';
  let splits: { train: ArrayDataset; test: ArrayDataset };
  let layout: string;
  let resolved: DataOptionValues;

  switch (parsed.kind) {
    case 'cifar10':
    case 'cifar100': {
      const labels = opts.labels ?? 'fine';
      resolved = parsed.kind === 'cifar100' ? { labels } : {};
      const kind = await requirePath(source, `${parsed.kind} data`);
      // The same classes also come as image-folder trees (e.g. ../shared/data/cifar10-jpeg).
      if (kind === 'dir' && (await findChild(source, 'train')) && (await findChild(source, 'test'))) {
        splits = await readImageFolder(source, { name: parsed.kind, color: 'rgb', size: undefined, fit: 'center', cacheDir, onProgress });
        layout = 'folder';
      } else {
        splits = await readCifar(parsed.kind, source, labels, onProgress);
        layout = kind === 'dir' ? 'binary' : 'archive';
      }
      break;
    }
    case 'folder': {
      const color = opts.color ?? 'auto';
      const fit = opts.fit ?? 'center';
      const folder = await readImageFolder(source, {
        name: path.basename(source),
        color,
        size: opts.size ? square(opts.size) : undefined,
        fit,
        cacheDir,
        onProgress,
        seed,
        layout: opts.layout,
        testSplit: opts.testSplit,
        testFraction: opts.testFraction,
        trainList: opts.trainList,
        testList: opts.testList,
        classNames: opts.classNames,
        imageRoot: opts.imageRoot,
      });
      splits = folder;
      resolved = { color, fit, ...(opts.size ? { size: opts.size } : {}), ...folder.source.resolved };
      layout = `folder: ${folder.source.description}`;
      break;
    }
    case 'mstar': {
      resolved = { size: opts.size ?? 128, amplitude: opts.amplitude ?? 'linear', classFrom: opts.classFrom ?? 'header' };
      const mstar = await readMstar(source, {
        size: square(resolved.size!),
        amplitude: resolved.amplitude!,
        classFrom: resolved.classFrom!,
        cacheDir,
        onProgress,
      });
      splits = mstar;
      layout = mstar.layout;
      break;
    }
    case 'fusar': {
      resolved = {
        size: opts.size ?? 128,
        fit: opts.fit ?? 'resize',
        color: opts.color === 'rgb' ? 'rgb' : 'gray',
        testFraction: opts.testFraction ?? 0.2,
        ...(opts.classes ? { classes: opts.classes } : {}),
      };
      splits = await readFusar(source, {
        classes: opts.classes,
        size: square(resolved.size!),
        fit: resolved.fit!,
        color: resolved.color as 'gray' | 'rgb',
        testFraction: resolved.testFraction!,
        seed,
        cacheDir,
        onProgress,
      });
      layout = 'folder';
      break;
    }
    case 'opensarship': {
      resolved = {
        polarization: opts.polarization ?? 'vv',
        shipClasses: opts.shipClasses ?? 'three',
        size: opts.size ?? 64,
        fit: opts.fit ?? 'center',
        testFraction: opts.testFraction ?? 0.2,
      };
      splits = await readOpenSarShip(source, {
        polarization: resolved.polarization!,
        shipClasses: resolved.shipClasses!,
        size: square(resolved.size!),
        fit: resolved.fit!,
        testFraction: resolved.testFraction!,
        seed,
        onProgress,
      });
      layout = 'zips';
      break;
    }
    case 'synthetic': {
      resolved = { size: opts.size ?? 32, trainPerClass: opts.trainPerClass ?? 500, testPerClass: opts.testPerClass ?? 100 };
      if (typeof resolved.size !== 'number') throw new ConfigError('size', 'synthetic chips are square: give one number');
      splits = makeSynthetic({ size: resolved.size, trainPerClass: resolved.trainPerClass!, testPerClass: resolved.testPerClass!, seed });
      layout = 'generated';
      break;
    }
  }

  const { train, test } = splits;
  if (train.length === 0) throw new FormatError(source, 'holds no training samples');
  if (test.length === 0) throw new FormatError(source, 'holds no test samples');
  const stats = channelStats(train);
  const shape = { channels: train.channels, height: train.height, width: train.width };
  return {
    train,
    test,
    info: {
      kind: parsed.kind,
      source,
      layout,
      options: { seed, ...resolved, ...(cacheDir ? { cacheDir } : {}) },
      ...shape,
      mean: stats.mean,
      std: stats.std,
      transforms: defaultTransforms(parsed.kind, shape),
    },
  };
}
