import { ConfigError } from '../errors.js';
import { keep, tidy } from './scope.js';
import { noGrad, type Tensor } from './tensor.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * SGD over an explicit parameter list with PyTorch's update rule
 * (torch.optim.SGD): d = g + wd·p; buf = μ·buf + (1-τ)·d; d = nesterov ?
 * d + μ·buf : buf; p -= lr·d. The momentum buffers are ordinary tensors, so a
 * checkpoint saves and restores them exactly.
 */
export class SGD {
  readonly params: readonly Tensor[];
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  lr: number;
  #buffers: (Tensor | null)[];

  constructor(params: readonly Tensor[], options: SgdOptions) {
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    if (!(lr >= 0)) throw new ConfigError('lr', `must be >= 0, got ${lr}`);
    if (!(momentum >= 0)) throw new ConfigError('momentum', `must be >= 0, got ${momentum}`);
    if (!(weightDecay >= 0)) throw new ConfigError('weightDecay', `must be >= 0, got ${weightDecay}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new ConfigError('nesterov', 'needs momentum > 0 and dampening 0');
    if (params.length === 0) throw new ConfigError('params', 'optimizer got an empty parameter list');
    this.params = params;
    this.lr = lr;
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    this.#buffers = params.map(() => null);
  }

  step(): void {
    noGrad(() =>
      tidy(() => {
        this.params.forEach((p, i) => {
          const grad = p.grad;
          if (grad === null) return;
          let d = this.weightDecay === 0 ? grad : grad.add(p.mul(this.weightDecay));
          if (this.momentum !== 0) {
            let buf = this.#buffers[i];
            if (buf === null || buf === undefined) {
              buf = keep(d.clone());
              this.#buffers[i] = buf;
            } else {
              buf.mul_(this.momentum).add_(d, 1 - this.dampening);
            }
            d = this.nesterov ? d.add(buf.mul(this.momentum)) : buf;
          }
          p.add_(d, -this.lr);
        });
      }),
    );
  }

  /** Drops every gradient (set to none), which costs nothing per element. */
  zeroGrad(): void {
    for (const p of this.params) p.clearGrad();
  }

  /** Momentum buffers by parameter index (null before the first step), for checkpoints. */
  momentumBuffers(): readonly (Tensor | null)[] {
    return this.#buffers;
  }

  /** Installs copies of saved momentum buffers; shapes must match the parameters. */
  loadMomentumBuffers(buffers: readonly (Tensor | null)[]): void {
    if (buffers.length !== this.params.length) throw new ConfigError('optimizer', `checkpoint has ${buffers.length} momentum buffers, optimizer has ${this.params.length} parameters`);
    buffers.forEach((b, i) => {
      if (b !== null && b.shape.join('x') !== this.params[i]!.shape.join('x')) {
        throw new ConfigError('optimizer', `momentum buffer ${i} has shape [${b.shape.join(', ')}], parameter has [${this.params[i]!.shape.join(', ')}]`);
      }
    });
    this.#buffers.forEach((b) => b?.dispose());
    this.#buffers = buffers.map((b) => (b === null ? null : keep(b.clone())));
  }

  dispose(): void {
    this.#buffers.forEach((b) => b?.dispose());
    this.#buffers = this.params.map(() => null);
  }
}
