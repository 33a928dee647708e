/** Messages between DataLoader and its prefetch workers. */
import type { PackedSource } from './batch.js';
import type { ChannelStats } from './dataset.js';
import type { PipelineInput, TransformSpec } from './transforms.js';

export interface PrefetchInit {
  source: PackedSource;
  input: PipelineInput;
  transforms: TransformSpec[];
  stats?: ChannelStats;
  seed: number;
}

export interface PrefetchRequest {
  id: number;
  epoch: number;
  indices: Int32Array;
}

export type PrefetchReply = { id: number; x: Float32Array; y: Int32Array } | { id: number; error: string };
