import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, MaxPool2d } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';
import { heInitConvs } from './init.js';
import { defaultWeightInit_ } from '../nn/init.js';

/**
 * A-ConvNets (Chen et al., TGRS 2016): all-convolutional, no fully connected
 * layer, for 88x88 single-channel SAR chips: 88 -conv5-> 84 -pool-> 42 -conv5->
 * 38 -pool-> 19 -conv6-> 14 -pool-> 7 -conv5-> 3 -conv3-> 1. dst adds BN after
 * the first four convs (folded away at export), which makes the short
 * schedules of the recipes converge reliably. `width` multiplies every
 * hidden layer's channels (2: dst's A-ConvNets teacher for MSTAR).
 */
export class AConvNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly conv4: Conv2d;
  readonly bn4: BatchNorm2d;
  readonly conv5: Conv2d;
  readonly pool = new MaxPool2d(2);
  readonly dropout = new Dropout(0.5);
  readonly head = new AdaptiveAvgPool2d(1);

  constructor(numClasses: number, inChannels: number, width = 1) {
    super();
    const [c1, c2, c3, c4] = [16, 32, 64, 128].map((c) => c * width) as [number, number, number, number];
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, c1, 5, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(c1));
    this.conv2 = this.registerModule('conv2', new Conv2d(c1, c2, 5, { bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(c2));
    this.conv3 = this.registerModule('conv3', new Conv2d(c2, c3, 6, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(c3));
    this.conv4 = this.registerModule('conv4', new Conv2d(c3, c4, 5, { bias: false }));
    this.bn4 = this.registerModule('bn4', new BatchNorm2d(c4));
    this.conv5 = this.registerModule('conv5', new Conv2d(c4, numClasses, 3));
    this.registerModule('dropout', this.dropout);
    heInitConvs(this);
    // conv5 is the classifier: He fan-out init would start it with logits of std ~4 (initial loss ~4 instead of ln 10).
    defaultWeightInit_(this.conv5.weight);
  }

  forward(x: Tensor): Tensor {
    let out = this.pool.forward(this.bn1.forward(this.conv1.forward(x)).relu_());
    out = this.pool.forward(this.bn2.forward(this.conv2.forward(out)).relu_());
    out = this.pool.forward(this.bn3.forward(this.conv3.forward(out)).relu_());
    out = this.dropout.forward(this.bn4.forward(this.conv4.forward(out)).relu_());
    out = this.conv5.forward(out);
    // At 88x88 the map is already 1x1; other chip sizes average what is left.
    if (out.shape[2] !== 1 || out.shape[3] !== 1) out = this.head.forward(out);
    return out.flatten(1);
  }
}
