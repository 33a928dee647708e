import { ConfigError } from '../errors.js';
import * as F from '../nn/functional.js';
import type { Tensor } from '../torch/tensor.js';

export interface KdOptions {
  /** Temperature T of the softened distributions. */
  temperature: number;
  /** Weight a of the distillation term; 1-a weighs the cross-entropy. */
  alpha: number;
}

function check(options: KdOptions): void {
  if (!(options.temperature > 0)) throw new ConfigError('kd.temperature', `must be > 0, got ${options.temperature}`);
  if (!(options.alpha >= 0 && options.alpha <= 1)) throw new ConfigError('kd.alpha', `must be in [0, 1], got ${options.alpha}`);
}

/** T²·KL(softmax(target/T) || softmax(student/T)), averaged over the batch (Hinton et al. 2015). */
export function softKl(studentLogits: Tensor, targetLogits: Tensor, temperature: number): Tensor {
  const t = temperature;
  const logStudent = studentLogits.div(t).logSoftmax(1);
  const target = targetLogits.div(t).softmax(1);
  return F.klDiv(logStudent, target, { reduction: 'batchmean' }).mul(t * t);
}

/** L_kd = (1-a)·CE(y, s) + a·T²·KL(softmax(t/T) || softmax(s/T)). */
export function kdLoss(student: Tensor, teacher: Tensor, labels: Tensor, options: KdOptions): Tensor {
  check(options);
  const ce = F.crossEntropy(student, labels);
  return ce.mul(1 - options.alpha).add(softKl(student, teacher, options.temperature).mul(options.alpha));
}

/**
 * L_dst = (1-a)·CE(y, s_m) + a·T²·KL(t || s_m) + b·T²·KL(s_d || s_m): the
 * teacher and the frozen dense student both teach the pruned student s_m
 * (DESIGN §5); b = 0 leaves plain KD.
 */
export function dstLoss(pruned: Tensor, teacher: Tensor, denseStudent: Tensor | null, labels: Tensor, options: KdOptions & { beta: number }): Tensor {
  check(options);
  if (!(options.beta >= 0)) throw new ConfigError('dst.beta', `must be >= 0, got ${options.beta}`);
  const kd = kdLoss(pruned, teacher, labels, options);
  if (options.beta === 0 || denseStudent === null) return kd;
  return kd.add(softKl(pruned, denseStudent, options.temperature).mul(options.beta));
}
