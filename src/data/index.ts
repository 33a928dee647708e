/** Public face of src/data: datasets as TypedArrays, transforms as plain data, batches for the trainer. */
export { ArrayDataset, channelStats, packDataset } from './dataset.js';
export type { ChannelStats, Dataset, PixelArray, Sample } from './dataset.js';
export { openData } from './open.js';
export type { DataInfo, DataSplits, OpenDataOptions } from './open.js';
export { DATA_KINDS, parseDataSpec } from './spec.js';
export type { DataKind, DataSpec } from './spec.js';
export { DataLoader } from './loader.js';
export type { Batch, DataLoaderOptions } from './loader.js';
export { defaultTransforms, parseTransforms, Pipeline, transformSchema } from './transforms.js';
export type { ImageShape, TransformSpec } from './transforms.js';
export type { DataProgress, ProgressCallback } from './progress.js';
export { SYNTHETIC_CLASSES } from './synthetic.js';
