import { keep } from '../torch/scope.js';
import { Tensor, detachedHandle } from '../torch/tensor.js';

/**
 * A trainable tensor owned by a module: it requires gradients and belongs to
 * no tidy scope, so it lives until the module is disposed.
 */
export class Parameter extends Tensor {
  constructor(initial: Tensor) {
    super(detachedHandle(initial));
    keep(this);
    initial.dispose();
    this.requiresGrad = true;
  }
}
