import { ConfigError } from '../errors.js';
import { torchAddon } from '../torch/native.js';
import { Tensor } from '../torch/tensor.js';
import { opTracer } from '../torch/trace-hook.js';
import { recordMacs } from './macs.js';

const native = torchAddon();

type Pair = number | readonly [number, number];

function pair(value: Pair, key: string): number[] {
  const out = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!out.every((v) => Number.isInteger(v) && v >= 0)) throw new ConfigError(key, `expected non-negative integers, got ${String(value)}`);
  return out;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  /** The layer's own weight when `weight` is a masked copy, so statistics find the layer. */
  layerWeight?: Tensor;
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  const y = new Tensor(
    native.conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(stride, 'stride'), pair(padding, 'padding'), pair(dilation, 'dilation'), groups),
  );
  recordMacs(
    options.layerWeight ?? weight,
    () => {
      const [n, , h, w] = y.shape;
      return n! * h! * w! * weight.size;
    },
    () => y.shape[2]! * y.shape[3]!,
  );
  opTracer?.record('conv2d', y, [x, weight, bias, options.layerWeight ?? weight], { stride, padding, dilation, groups });
  return y;
}

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
}

export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  options: BatchNormOptions,
): Tensor {
  const { training, momentum = 0.1, eps = 1e-5 } = options;
  const y = new Tensor(
    native.batchNorm(x.handle, weight?.handle ?? null, bias?.handle ?? null, runningMean?.handle ?? null, runningVar?.handle ?? null, training, momentum, eps),
  );
  opTracer?.record('batchNorm', y, [x, runningMean, runningVar, weight, bias], { training, eps });
  return y;
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, layerWeight?: Tensor): Tensor {
  const y = new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
  recordMacs(layerWeight ?? weight, () => (y.size / weight.shape[0]!) * weight.size, () => 1);
  opTracer?.record('linear', y, [x, weight, bias, layerWeight ?? weight]);
  return y;
}

export function relu(x: Tensor): Tensor {
  return x.relu();
}

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}

export function maxPool2d(x: Tensor, kernel: Pair, options: PoolOptions & { dilation?: Pair } = {}): Tensor {
  const { stride = kernel, padding = 0, dilation = 1, ceilMode = false } = options;
  const y = new Tensor(native.maxPool2d(x.handle, pair(kernel, 'kernel'), pair(stride, 'stride'), pair(padding, 'padding'), pair(dilation, 'dilation'), ceilMode));
  opTracer?.record('maxPool2d', y, [x], { kernel, stride, padding, dilation, ceilMode });
  return y;
}

export function avgPool2d(x: Tensor, kernel: Pair, options: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  const { stride = kernel, padding = 0, ceilMode = false, countIncludePad = true } = options;
  const y = new Tensor(native.avgPool2d(x.handle, pair(kernel, 'kernel'), pair(stride, 'stride'), pair(padding, 'padding'), ceilMode, countIncludePad));
  opTracer?.record('avgPool2d', y, [x], { kernel, stride, padding, ceilMode, countIncludePad });
  return y;
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const y = new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize, 'outputSize')));
  opTracer?.record('adaptiveAvgPool2d', y, [x], { outputSize });
  return y;
}

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!(p >= 0 && p < 1)) throw new ConfigError('dropout', `probability must be in [0, 1), got ${p}`);
  const y = new Tensor(native.dropout(x.handle, p, training));
  opTracer?.record('dropout', y, [x], { training });
  return y;
}

export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  return x.flatten(startDim, endDim);
}

export function softmax(x: Tensor, dim = -1): Tensor {
  return x.softmax(dim);
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return x.logSoftmax(dim);
}

export type Reduction = 'none' | 'mean' | 'sum';
const reductionCode = { none: 0, mean: 1, sum: 2, batchmean: 3 } as const;

export interface CrossEntropyOptions {
  reduction?: Reduction;
  labelSmoothing?: number;
}

/** Cross-entropy of raw logits [N, K] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ConfigError('labelSmoothing', `must be in [0, 1), got ${labelSmoothing}`);
  return new Tensor(native.crossEntropy(logits.handle, target.handle, reductionCode[reduction], labelSmoothing));
}

export interface KlDivOptions {
  reduction?: Reduction | 'batchmean';
  logTarget?: boolean;
}

/** KL(target || input) with `input` given as log-probabilities, as torch.nn.functional.kl_div. */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const { reduction = 'batchmean', logTarget = false } = options;
  return new Tensor(native.klDiv(input.handle, target.handle, reductionCode[reduction], logTarget));
}
