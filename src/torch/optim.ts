import { ConfigError } from '../errors.js';
import { torchAddon, type NativeSgd } from './native.js';
import type { Tensor } from './tensor.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** SGD over an explicit parameter list (LibTorch's implementation, so the update runs natively). */
export class SGD {
  readonly #sgd: NativeSgd;
  #lr: number;

  constructor(params: readonly Tensor[], options: SgdOptions) {
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    if (!(lr >= 0)) throw new ConfigError('lr', `must be >= 0, got ${lr}`);
    if (!(momentum >= 0)) throw new ConfigError('momentum', `must be >= 0, got ${momentum}`);
    if (!(weightDecay >= 0)) throw new ConfigError('weightDecay', `must be >= 0, got ${weightDecay}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ConfigError('nesterov', 'needs momentum > 0 and dampening 0');
    }
    if (params.length === 0) throw new ConfigError('params', 'optimizer got an empty parameter list');
    const Sgd = torchAddon().Sgd;
    this.#sgd = new Sgd(params.map((p) => p.handle), lr, momentum, dampening, weightDecay, nesterov);
    this.#lr = lr;
  }

  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    this.#sgd.setLr(value);
    this.#lr = value;
  }

  step(): void {
    this.#sgd.step();
  }

  /** Drops every gradient (set to none), which costs nothing per element. */
  zeroGrad(): void {
    this.#sgd.zeroGrad();
  }

  dispose(): void {
    this.#sgd.dispose();
  }
}
