import { readFile } from 'node:fs/promises';
import type { ArrayDataset, ChannelStats } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import type { TransformSpec } from '../data/transforms.js';
import { ConfigError } from '../errors.js';
import { readUhp } from '../export/read-uhp.js';
import { loadModelBytes, type Isa } from '../runtime/model.js';
import { ClassificationMeter } from './metrics.js';
import { tensor } from '../torch/tensor.js';
import { tidy } from '../torch/scope.js';

export interface EngineEvalResult {
  top1: number;
  top5: number;
  count: number;
  isa: string;
  /** The file is an int8 model: the engine ran it integer-only. */
  int8: boolean;
  /** Predictions per test image, in dataset order. */
  predictions: Int32Array;
}

/**
 * The test pipeline as the .uhp file wants its input: the engine applies the
 * file's own normalisation, and its centre crop when the file carries one.
 */
export function engineTransforms(transforms: readonly TransformSpec[], preprocess: { cropFrom: [number, number] | null; mean: number[] | null }): TransformSpec[] {
  return transforms.filter((t) => !(t.op === 'normalize' && preprocess.mean !== null) && !(t.op === 'centerCrop' && preprocess.cropFrom !== null));
}

/** Top-1/top-5 of a .uhp model through the C engine on `dataset`, with per-image predictions. */
export async function evaluateUhp(
  file: string,
  dataset: ArrayDataset,
  numClasses: number,
  options: { transforms: readonly TransformSpec[]; stats: ChannelStats; batchSize: number; threads: number; isa?: Isa },
): Promise<EngineEvalResult> {
  const bytes = new Uint8Array(await readFile(file).catch(() => {
    throw new ConfigError('--uhp', `${file} does not exist`);
  }));
  const model = loadModelBytes(bytes, file, { threads: options.threads, isa: options.isa });
  try {
    const graph = readUhp(bytes, file);
    const outputs = model.outputShape.reduce((a, b) => a * b, 1);
    if (outputs !== numClasses) throw new ConfigError('--uhp', `${file} outputs ${outputs} scores, the data has ${numClasses} classes`);
    const loader = new DataLoader(dataset, { batchSize: options.batchSize, transforms: engineTransforms(options.transforms, graph.preprocess), stats: options.stats, workers: 0 });
    const meter = new ClassificationMeter(numClasses);
    const predictions = new Int32Array(dataset.length);
    let at = 0;
    try {
      for await (const batch of loader) {
        const scores = model.run(batch.x, batch.n);
        for (let i = 0; i < batch.n; i++) {
          const row = scores.subarray(i * numClasses, (i + 1) * numClasses);
          predictions[at++] = row.indexOf(Math.max(...row));
        }
        tidy(() => meter.add(tensor(scores, [batch.n, numClasses]), batch.y, 0));
      }
    } finally {
      await loader.close();
    }
    return { top1: meter.top1, top5: meter.top5, count: meter.count, isa: model.isa, int8: model.int8, predictions };
  } finally {
    model.dispose();
  }
}
