/** Loads build/Release/dst_engine.node once; the engine's raw Node-API surface. */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DstError } from '../errors.js';

export type EngineHandle = { readonly __engine: unique symbol };

export interface EngineInfo {
  inputShape: number[];
  outputShape: number[];
  isa: string;
  threads: number;
  memoryBytes: number;
}

/** One graph node's share of the runs since profiling was turned on. */
export interface NativeLayer {
  kernel: string;
  macs: number;
  ms: number;
  /** Ran inside the convolution before it (a pooling in its bands, an add in its stores); its time is counted there. */
  fused: boolean;
}

export interface NativeEngine {
  load(bytes: Uint8Array, isa: string, threads: number): EngineHandle;
  run(handle: EngineHandle, input: Float32Array, batch: number): Float32Array;
  info(handle: EngineHandle): EngineInfo;
  setThreads(handle: EngineHandle, threads: number): void;
  profile(handle: EngineHandle, on: boolean): void;
  layers(handle: EngineHandle): NativeLayer[];
  dispose(handle: EngineHandle): void;
  isas(): string[];
}

let cached: NativeEngine | undefined;

export function nativeEngine(): NativeEngine {
  if (cached) return cached;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const file = path.join(root, 'build', 'Release', 'dst_engine.node');
  try {
    cached = createRequire(import.meta.url)(file) as NativeEngine;
  } catch (err) {
    throw new DstError('E_NATIVE', `cannot load the engine addon ${file} (build it with node-gyp): ${(err as Error).message}`);
  }
  return cached;
}
