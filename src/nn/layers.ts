import { ConfigError } from '../errors.js';
import { Tensor, noGrad, ones, zeros } from '../torch/tensor.js';
import * as F from './functional.js';
import { defaultWeightInit_, uniform_, fans } from './init.js';
import { Module } from './module.js';
import type { Parameter } from './parameter.js';

type Pair = number | readonly [number, number];

function positiveInt(value: number, key: string): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(key, `must be a positive integer, got ${value}`);
  return value;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

/**
 * Pruning state shared by Conv2d and Linear. The forward pass uses
 * weight·mask, so a pruned weight is zero in every forward pass. With
 * straight-through on, pruned weights still receive their dense gradient (the
 * mask is applied as w - stopgrad(w·(1-mask))), so a connection can come back
 * when masks are re-chosen; with it off, their gradient is zero.
 */
export abstract class MaskableModule extends Module {
  abstract readonly weight: Parameter;
  #mask: Tensor | null = null;
  straightThrough = false;

  /** The installed mask; it lives in the state dict as `weight_mask`, so checkpoints restore it. */
  get weightMask(): Tensor | null {
    return this.#mask;
  }

  /** Installs (or overwrites) the 0/1 mask. */
  setWeightMask(mask: Tensor): void {
    if (mask.shape.join('x') !== this.weight.shape.join('x')) {
      throw new ConfigError('mask', `shape [${mask.shape.join(', ')}] does not match weight [${this.weight.shape.join(', ')}]`);
    }
    if (this.#mask === null) this.#mask = this.registerBuffer('weight_mask', mask.to('float32'));
    else noGrad(() => this.#mask!.copy_(mask));
  }

  /** Zeroes the pruned weights in place (used once masks are fixed). */
  applyMaskToWeight(): void {
    if (this.#mask !== null) noGrad(() => this.weight.mul_(this.#mask!));
  }

  protected effectiveWeight(): Tensor {
    if (this.#mask === null) return this.weight;
    if (!this.straightThrough) return this.weight.mul(this.#mask);
    // Value w·mask, gradient 1: the detached correction carries the masking.
    const frozen = this.weight.detach();
    return this.weight.add(frozen.mul(this.#mask).sub_(frozen));
  }
}

export class Conv2d extends MaskableModule {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = options;
    positiveInt(inChannels, 'inChannels');
    positiveInt(outChannels, 'outChannels');
    positiveInt(groups, 'groups');
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ConfigError('groups', `${groups} does not divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.stride = stride;
    this.padding = padding;
    this.dilation = dilation;
    this.groups = groups;
    this.weight = this.registerParameter('weight', zeros([outChannels, inChannels / groups, kh, kw]));
    defaultWeightInit_(this.weight);
    this.bias = null;
    if (bias) {
      this.bias = this.registerParameter('bias', zeros([outChannels]));
      uniform_(this.bias, 1 / Math.sqrt(fans(this.weight.shape).fanIn));
    }
  }

  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.effectiveWeight(), this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      layerWeight: this.weight,
    });
  }
}

export interface BatchNorm2dOptions {
  eps?: number;
  /** Weight of a batch in the running statistics; null: their cumulative average (PyTorch's `momentum=None`). */
  momentum?: number | null;
}

export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  momentum: number | null;

  constructor(
    readonly numFeatures: number,
    options: BatchNorm2dOptions = {},
  ) {
    super();
    positiveInt(numFeatures, 'numFeatures');
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.weight = this.registerParameter('weight', ones([numFeatures]));
    this.bias = this.registerParameter('bias', zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], 'int64'));
  }

  forward(x: Tensor): Tensor {
    if (this.training) noGrad(() => this.numBatchesTracked.add_(1));
    const momentum = this.momentum ?? (this.training ? 1 / this.numBatchesTracked.item() : 0);
    return F.batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum,
      eps: this.eps,
    });
  }
}

export class Linear extends MaskableModule {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super();
    positiveInt(inFeatures, 'inFeatures');
    positiveInt(outFeatures, 'outFeatures');
    this.weight = this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    defaultWeightInit_(this.weight);
    this.bias = null;
    if (options.bias ?? true) {
      this.bias = this.registerParameter('bias', zeros([outFeatures]));
      uniform_(this.bias, 1 / Math.sqrt(inFeatures));
    }
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.effectiveWeight(), this.bias, this.weight);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: F.PoolOptions = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, this.options);
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }

  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ConfigError('dropout', `probability must be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** Children named '0', '1', ... as torch.nn.Sequential, so keys read 'features.0.weight'. */
export class Sequential extends Module {
  readonly layers: readonly Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((layer, i) => this.registerModule(String(i), layer));
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.layers) out = layer.forward(out);
    return out;
  }
}
