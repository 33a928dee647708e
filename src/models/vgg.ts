import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';
import { heInitConvs } from './init.js';

/**
 * CIFAR VGG with BN as in RepDistiller's vgg.py: five conv blocks
 * (conv-BN-ReLU, the last ReLU applied outside), max-pool between blocks,
 * global average pool, one linear classifier. Keys: block0.0.weight, ...
 */
export class Vgg extends Module {
  readonly stages: Sequential[];
  readonly pools: Module[];
  readonly classifier: Linear;

  constructor(config: readonly (readonly number[])[], numClasses: number, inChannels: number) {
    super();
    let channels = inChannels;
    this.stages = config.map((widths, s) => {
      const layers: Module[] = [];
      for (const width of widths) {
        layers.push(new Conv2d(channels, width, 3, { padding: 1 }), new BatchNorm2d(width), new ReLU());
        channels = width;
      }
      layers.pop();
      return this.registerModule(`block${s}`, new Sequential(...layers));
    });
    this.pools = config.map((_, s) => (s === config.length - 1 ? new AdaptiveAvgPool2d(1) : new MaxPool2d(2)));
    this.classifier = this.registerModule('classifier', new Linear(channels, numClasses));
    heInitConvs(this);
  }

  forward(x: Tensor): Tensor {
    let out = x;
    const last = this.stages.length - 1;
    this.stages.forEach((stage, s) => {
      out = stage.forward(out).relu_();
      // Like the reference at 32x32 input, the fourth block keeps its 4x4 resolution.
      if (s !== last - 1 || out.shape[2]! > 4) out = this.pools[s]!.forward(out);
    });
    return this.classifier.forward(out.flatten(1));
  }
}

export const vggConfigs = {
  vgg8: [[64], [128], [256], [512], [512]],
  vgg13: [
    [64, 64],
    [128, 128],
    [256, 256],
    [512, 512],
    [512, 512],
  ],
} as const;
