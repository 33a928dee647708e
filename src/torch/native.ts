import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { DstError } from '../errors.js';

/** Opaque native handle owning one torch::Tensor. */
export interface NativeHandle {
  readonly __brand: 'TensorHandle';
}

type H = NativeHandle;
type Operand = H | number | boolean;

/** The functions of native/torch/addon.cc, as the TS side sees them. */
export interface TorchAddon {
  liveTensors(): number;
  dispose(h: H): void;
  isDisposed(h: H): boolean;
  shape(h: H): number[];
  dtype(h: H): string;
  numel(h: H): number;
  toTypedArray(h: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
  item(h: H): number;
  toString(h: H): string;
  fromTypedArray(data: ArrayBufferView, shape: number[], dtype: string): H;
  requiresGrad(h: H): boolean;
  setRequiresGrad(h: H, on: boolean): void;
  backward(h: H, grad?: H | null): void;
  grad(h: H): H | null;
  clearGrad(h: H): void;
  isGradEnabled(): boolean;
  setGradEnabled(on: boolean): void;
  detach(h: H): H;
  clone(h: H): H;
  toDtype(h: H, dtype: string): H;
  zeros(shape: number[], dtype: string): H;
  ones(shape: number[], dtype: string): H;
  full(shape: number[], value: number | boolean, dtype: string): H;
  arange(start: number, end: number, step: number, dtype: string): H;
  rand(shape: number[], dtype: string): H;
  randn(shape: number[], dtype: string): H;
  randint(low: number, high: number, shape: number[]): H;
  randperm(n: number): H;
  manualSeed(seed: number): void;
  add(a: H, b: Operand): H;
  sub(a: H, b: Operand): H;
  mul(a: H, b: Operand): H;
  div(a: H, b: Operand): H;
  add_(a: H, b: Operand, alpha?: number): void;
  sub_(a: H, b: Operand): void;
  mul_(a: H, b: Operand): void;
  div_(a: H, b: Operand): void;
  copy_(dst: H, src: H): void;
  fill_(h: H, value: number | boolean): void;
  relu_(h: H): void;
  neg(h: H): H;
  abs(h: H): H;
  sqrt(h: H): H;
  exp(h: H): H;
  log(h: H): H;
  sign(h: H): H;
  pow(h: H, e: Operand): H;
  clamp(h: H, min: number | null, max: number | null): H;
  eq(a: H, b: Operand): H;
  ne(a: H, b: Operand): H;
  lt(a: H, b: Operand): H;
  le(a: H, b: Operand): H;
  gt(a: H, b: Operand): H;
  ge(a: H, b: Operand): H;
  where(cond: H, a: Operand, b: Operand): H;
  matmul(a: H, b: H): H;
  sum(h: H, dims?: number[] | null, keepDim?: boolean): H;
  mean(h: H, dims?: number[] | null, keepDim?: boolean): H;
  maxAll(h: H): H;
  minAll(h: H): H;
  maxDim(h: H, dim: number, keepDim: boolean): [H, H];
  argmax(h: H, dim: number, keepDim: boolean): H;
  topk(h: H, k: number, dim: number, largest: boolean): [H, H];
  reshape(h: H, shape: number[]): H;
  view(h: H, shape: number[]): H;
  permute(h: H, dims: number[]): H;
  transpose(h: H, a: number, b: number): H;
  contiguous(h: H): H;
  flatten(h: H, start: number, end: number): H;
  unsqueeze(h: H, dim: number): H;
  squeeze(h: H, dim: number): H;
  cat(hs: H[], dim: number): H;
  stack(hs: H[], dim: number): H;
  narrow(h: H, dim: number, start: number, length: number): H;
  indexSelect(h: H, dim: number, index: H): H;
  pad(h: H, pads: number[], value: number): H;
  flip(h: H, dims: number[]): H;
  conv2d(x: H, w: H, b: H | null, stride: number[], padding: number[], dilation: number[], groups: number): H;
  batchNorm(x: H, w: H | null, b: H | null, rm: H | null, rv: H | null, training: boolean, momentum: number, eps: number): H;
  relu(h: H): H;
  maxPool2d(h: H, kernel: number[], stride: number[], padding: number[], dilation: number[], ceilMode: boolean): H;
  avgPool2d(h: H, kernel: number[], stride: number[], padding: number[], ceilMode: boolean, countIncludePad: boolean): H;
  adaptiveAvgPool2d(h: H, size: number[]): H;
  linear(x: H, w: H, b: H | null): H;
  dropout(h: H, p: number, training: boolean): H;
  softmax(h: H, dim: number): H;
  logSoftmax(h: H, dim: number): H;
  crossEntropy(logits: H, target: H, reduction: number, labelSmoothing: number): H;
  klDiv(input: H, target: H, reduction: number, logTarget: boolean): H;
  fakeQuantizePerTensor(x: H, scale: number, zeroPoint: number, quantMin: number, quantMax: number): H;
  fakeQuantizePerChannel(x: H, scales: H, zeroPoints: H, axis: number, quantMin: number, quantMax: number): H;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  versionInfo(): TorchVersionInfo & { config: string };
}

export interface TorchVersionInfo {
  libtorch: string;
  onednn: boolean;
  openmp: boolean;
  threads: number;
  interopThreads: number;
  /** The ISA LibTorch's own kernels dispatch to (DEFAULT, AVX2, AVX512). */
  cpuCapability: string;
}

function locateAddon(): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [path.join(root, 'build', 'Release', 'dst_torch.node'), path.join(root, 'build', 'Debug', 'dst_torch.node')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) {
    throw new DstError('E_ADDON', `native addon not built (looked for ${candidates[0]}); run 'npm ci' or 'npx node-gyp rebuild'`);
  }
  return found;
}

function loadAddon(): TorchAddon {
  const file = locateAddon();
  // OpenMP's default busy-wait makes LibTorch several times slower whenever the
  // cores are shared (a data worker, a second process): measured 2.2 s against
  // 0.43 s per ResNet-20 step with 2 threads on a loaded 2-core machine.
  // libgomp reads this once, when the addon pulls it in; a user's value wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    return createRequire(import.meta.url)(file) as TorchAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new DstError('E_ADDON', `native addon ${file} does not load: ${reason}`);
  }
}

let addon: TorchAddon | undefined;

/** The addon, loaded on first use so that `dst doctor` can report a missing build instead of crashing. */
export function torchAddon(): TorchAddon {
  addon ??= loadAddon();
  return addon;
}
