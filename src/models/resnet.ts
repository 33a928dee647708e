import { ConfigError } from '../errors.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';
import { heInitConvs } from './init.js';

/**
 * Residual block with option-B shortcuts (1x1 conv + BN where the shape
 * changes), named as RepDistiller's and torchvision's so their checkpoints
 * load by key: conv1, bn1, conv2, bn2, downsample.0, downsample.1.
 */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = null;
    if (stride !== 1 || inPlanes !== planes) {
      this.downsample = this.registerModule(
        'downsample',
        new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes)),
      );
    }
  }

  forward(x: Tensor): Tensor {
    const a = this.bn1.forward(this.conv1.forward(x)).relu_();
    const b = this.bn2.forward(this.conv2.forward(a));
    const shortcut = this.downsample === null ? x : this.downsample.forward(x);
    return b.add_(shortcut).relu_();
  }
}

export interface ResNetSpec {
  /** Blocks per stage. */
  blocks: readonly number[];
  /** Stem width, then one width per stage. */
  widths: readonly number[];
  strides: readonly number[];
  stem: { kernel: number; stride: number };
}

/** A ResNet of BasicBlocks: stem conv-BN-ReLU, stages, global average pool, fc. */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[];
  readonly pool: AdaptiveAvgPool2d;
  readonly fc: Linear;

  constructor(spec: ResNetSpec, numClasses: number, inChannels: number) {
    super();
    const [stemWidth, ...stageWidths] = spec.widths;
    if (stemWidth === undefined || stageWidths.length !== spec.blocks.length || spec.strides.length !== spec.blocks.length) {
      throw new ConfigError('model', 'ResNet spec needs one width, block count and stride per stage plus a stem width');
    }
    const { kernel, stride } = spec.stem;
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, stemWidth, kernel, { stride, padding: (kernel - 1) >> 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(stemWidth));
    let inPlanes = stemWidth;
    this.stages = spec.blocks.map((count, s) => {
      const planes = stageWidths[s]!;
      const blocks: BasicBlock[] = [];
      for (let i = 0; i < count; i++) {
        blocks.push(new BasicBlock(inPlanes, planes, i === 0 ? spec.strides[s]! : 1));
        inPlanes = planes;
      }
      return this.registerModule(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.pool = new AdaptiveAvgPool2d(1);
    this.fc = this.registerModule('fc', new Linear(inPlanes, numClasses));
    heInitConvs(this);
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.forward(this.conv1.forward(x)).relu_();
    for (const stage of this.stages) out = stage.forward(out);
    return this.fc.forward(this.pool.forward(out).flatten(1));
  }
}

/** CIFAR ResNet of depth 6n+2 (He et al. 2016): three stages at strides 1, 2, 2. */
export function cifarResNet(depth: number, widths: readonly [number, number, number, number], numClasses: number, inChannels: number): ResNet {
  if ((depth - 2) % 6 !== 0) throw new ConfigError('depth', `CIFAR ResNet depth must be 6n+2, got ${depth}`);
  const n = (depth - 2) / 6;
  return new ResNet({ blocks: [n, n, n], widths, strides: [1, 2, 2], stem: { kernel: 3, stride: 1 } }, numClasses, inChannels);
}

/**
 * dst's SAR teacher: ResNet-18 layout for 88x88 chips; a 5x5 stride-2 stem
 * instead of ImageNet's 7x7 + max-pool keeps detail of small targets.
 */
export function sarResNet18(numClasses: number, inChannels: number): ResNet {
  return new ResNet({ blocks: [2, 2, 2, 2], widths: [32, 32, 64, 128, 256], strides: [1, 2, 2, 2], stem: { kernel: 5, stride: 2 } }, numClasses, inChannels);
}
