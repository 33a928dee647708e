/**
 * Calibration images of a run: its training split (or another data spec),
 * through the run's own test pipeline, so they are exactly what the network
 * takes at inference.
 */
import { openData } from '../data/open.js';
import { Pipeline } from '../data/transforms.js';
import { Rng } from '../data/rng.js';
import type { ProgressCallback } from '../data/progress.js';
import { ConfigError } from '../errors.js';
import type { ModelFileInfo } from '../train/model-file.js';
import { RunDir } from '../train/run-dir.js';
import type { CalibrationSet } from './calibrate.js';

export interface RunCalibrationOptions {
  /** Images to take, spread evenly over the split (all of it when smaller). */
  count: number;
  /** A data spec other than the one the run trained on. */
  spec?: string;
  /** Names the data in errors, e.g. '--calibration-data'. */
  label: string;
  onProgress?: ProgressCallback;
}

/** `count` training images of the run (or of `spec`) as network inputs, with the data's class count for checking. */
export async function runCalibrationSet(runPath: string, info: ModelFileInfo, options: RunCalibrationOptions): Promise<CalibrationSet & { spec: string }> {
  const recipe = await new RunDir(runPath).readRecipe();
  const spec = options.spec ?? (recipe.data as string);
  // The run's data options (cache folder, sizes) belong to its own spec only.
  const dataOptions = options.spec === undefined ? ((recipe.dataOptions as object | undefined) ?? {}) : {};
  const { train } = await openData(spec, { ...dataOptions, onProgress: options.onProgress });
  if (train.channels !== info.input[0]) {
    throw new ConfigError(options.label, `${spec} has ${train.channels}-channel images, the model takes ${info.input[0]}`);
  }
  const pipeline = new Pipeline(info.transforms, { channels: train.channels, height: train.height, width: train.width, dtype: train.images instanceof Uint8Array ? 'uint8' : 'float32' }, info.stats);
  const { channels, height, width } = pipeline.output;
  if (channels !== info.input[0] || height !== info.input[1] || width !== info.input[2]) {
    throw new ConfigError(options.label, `${spec} images are ${channels}x${height}x${width} after the run's test pipeline, the model takes ${info.input.join('x')}`);
  }
  const count = Math.min(options.count, train.length);
  if (count < 1) throw new ConfigError(options.label, `${spec} has no training images`);
  const per = channels * height * width;
  const images = new Float32Array(count * per);
  // Evenly spaced, so a split stored class by class still gives every class.
  for (let i = 0; i < count; i++) {
    const index = Math.floor((i * train.length) / count);
    pipeline.apply(train.get(index).image, new Rng(index), images, i * per);
  }
  return { images, count, shape: [channels, height, width], classes: train.classes.length, spec };
}
