import { ConfigError } from '../errors.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, Sequential } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../torch/tensor.js';
import { heInitConvs } from './init.js';

/** Pre-activation wide block (Zagoruyko & Komodakis 2016), keys as RepDistiller's wrn.py. */
class WideBlock extends Module {
  readonly bn1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly convShortcut: Conv2d | null;

  constructor(inPlanes: number, outPlanes: number, stride: number) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inPlanes));
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outPlanes));
    this.conv2 = this.registerModule('conv2', new Conv2d(outPlanes, outPlanes, 3, { padding: 1, bias: false }));
    this.convShortcut = inPlanes === outPlanes ? null : this.registerModule('convShortcut', new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false }));
  }

  forward(x: Tensor): Tensor {
    const pre = this.bn1.forward(x).relu_();
    const mid = this.bn2.forward(this.conv1.forward(pre)).relu_();
    const out = this.conv2.forward(mid);
    // Where the width changes, the shortcut sees the pre-activated input, as in the reference.
    return out.add_(this.convShortcut === null ? x : this.convShortcut.forward(pre));
  }
}

class NetworkBlock extends Module {
  readonly layer: Sequential;

  constructor(count: number, inPlanes: number, outPlanes: number, stride: number) {
    super();
    const blocks = Array.from({ length: count }, (_, i) => new WideBlock(i === 0 ? inPlanes : outPlanes, outPlanes, i === 0 ? stride : 1));
    this.layer = this.registerModule('layer', new Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return this.layer.forward(x);
  }
}

export class WideResNet extends Module {
  readonly conv1: Conv2d;
  readonly blocks: NetworkBlock[];
  readonly bn1: BatchNorm2d;
  readonly fc: Linear;
  readonly pool = new AdaptiveAvgPool2d(1);

  constructor(depth: number, widen: number, numClasses: number, inChannels: number) {
    super();
    if ((depth - 4) % 6 !== 0) throw new ConfigError('depth', `WRN depth must be 6n+4, got ${depth}`);
    const n = (depth - 4) / 6;
    const widths = [16, 16 * widen, 32 * widen, 64 * widen];
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, widths[0]!, 3, { padding: 1, bias: false }));
    this.blocks = [1, 2, 3].map((s) => this.registerModule(`block${s}`, new NetworkBlock(n, widths[s - 1]!, widths[s]!, s === 1 ? 1 : 2)));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(widths[3]!));
    this.fc = this.registerModule('fc', new Linear(widths[3]!, numClasses));
    heInitConvs(this);
  }

  forward(x: Tensor): Tensor {
    let out = this.conv1.forward(x);
    for (const block of this.blocks) out = block.forward(out);
    out = this.bn1.forward(out).relu_();
    return this.fc.forward(this.pool.forward(out).flatten(1));
  }
}
