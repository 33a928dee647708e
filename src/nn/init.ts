import { noGrad, rand, randn, type Tensor } from '../torch/tensor.js';

/** Fan-in and fan-out of a conv [O, C/g, kh, kw] or linear [O, I] weight, as torch.nn.init computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** Fills `t` in place with U(-bound, bound). */
export function uniform_(t: Tensor, bound: number): void {
  noGrad(() => {
    const r = rand(t.shape);
    t.copy_(r.mul_(2 * bound).sub_(bound));
    r.dispose();
  });
}

/** Fills `t` in place with N(0, std²). */
export function normal_(t: Tensor, std: number): void {
  noGrad(() => {
    const r = randn(t.shape);
    t.copy_(r.mul_(std));
    r.dispose();
  });
}

/** He et al. 2015 normal init, gain sqrt(2) for ReLU, as torch.nn.init.kaiming_normal_. */
export function kaimingNormal_(t: Tensor, mode: 'fanIn' | 'fanOut' = 'fanIn'): void {
  const f = fans(t.shape);
  normal_(t, Math.sqrt(2) / Math.sqrt(mode === 'fanIn' ? f.fanIn : f.fanOut));
}

/**
 * PyTorch's default for Conv2d and Linear weights: kaiming_uniform_ with
 * a = sqrt(5), which works out to U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function defaultWeightInit_(t: Tensor): void {
  uniform_(t, 1 / Math.sqrt(fans(t.shape).fanIn));
}
