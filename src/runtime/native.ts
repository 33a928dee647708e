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
  schedule: Schedule;
  int8: boolean;
}

/** Who runs an image when threads > 1: the pool always (default), the caller alone, or whichever recent images found faster. */
export type Schedule = 'pool' | 'caller' | 'auto';

/** One graph node's share of the runs since profiling was turned on. */
export interface NativeLayer {
  kernel: string;
  macs: number;
  ms: number;
  /** Ran inside the convolution before it (a pooling in its bands, an add in its stores); its time is counted there. */
  fused: boolean;
}

export interface NativeEngine {
  /** targetFlags: plan for another target, as the C exporter needs (TARGET_COMPACT, TARGET_NO_ROWS8). */
  load(bytes: Uint8Array, isa: string, threads: number, targetFlags?: number): EngineHandle;
  run(handle: EngineHandle, input: Float32Array, batch: number): Float32Array;
  info(handle: EngineHandle): EngineInfo;
  setThreads(handle: EngineHandle, threads: number): void;
  setSchedule(handle: EngineHandle, schedule: Schedule): void;
  /** The plan the engine runs, its field names those of native/engine/plan.h and graph.h. */
  plan(handle: EngineHandle): NativePlan;
  /** Node i's UHP groups as reader.c forms them: groups x M flat (c, kh, kw) weight indices, -1 for padding; null when not UHP. */
  uhpPositions(handle: EngineHandle, node: number): Int32Array | null;
  profile(handle: EngineHandle, on: boolean): void;
  layers(handle: EngineHandle): NativeLayer[];
  dispose(handle: EngineHandle): void;
  isas(): string[];
}

/** A C struct as the binding exports it: numbers, nested structs, typed arrays, null for NULL pointers. */
export type CStruct = { [field: string]: number | number[] | CStruct | Float32Array | Int32Array | Uint8Array | null };

export interface NativePlan {
  plan: CStruct;
  nodes: CStruct[];
  /** Step i is node i; `arrays` holds its packed weights. */
  steps: (CStruct & { arrays: Record<string, Float32Array | Int32Array | Uint8Array | null> })[];
  border: [number, number][];
  valAt: number[];
  /** The ops outside the kernel sets the model uses (run.h's DST_OPS_NAMES). */
  opsUsed: string[];
  /** The kernel paths the model uses (dst_kernels fields: dense16, sparse16, sparse8, gather8, rows8). */
  kernelsUsed: string[];
  mean: Float32Array | null;
  std: Float32Array | null;
  /** int8 plans: per input channel the code of each 8-bit pixel value, and per node its output q (and an add's requantization). */
  qlut: Int8Array | null;
  qnodes: CStruct[] | null;
}

/** native/engine/uhp_engine.h's DST_TARGET_* flags. */
export const TARGET_COMPACT = 1;
export const TARGET_NO_ROWS8 = 2;

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
