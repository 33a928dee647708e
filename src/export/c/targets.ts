/** Build targets of the C back end and the run-time files each one needs. */
import { ConfigError } from '../../errors.js';

export type CTarget = 'generic' | 'neon' | 'avx2' | 'cortex-m' | 'qemu-m7';

export const C_TARGETS: readonly CTarget[] = ['generic', 'neon', 'avx2', 'cortex-m', 'qemu-m7'];

/** Run-time sources, relative to native/engine: the layer loop and the kernels; headers they include are found and copied too. */
export function runtimeSources(target: CTarget, int8: boolean): string[] {
  const common = ['run.c', 'uhp_geometry.c', 'kernels/ops.c', 'kernels/k_scalar.c'];
  const q8 = int8 ? ['run_q8.c', 'kernels/ops_q8.c', 'kernels/q8_scalar.c'] : [];
  if (target === 'avx2') return [...common, 'kernels/k_avx2.c', ...q8, ...(int8 ? ['kernels/q8_avx2.c'] : [])];
  if (target === 'neon') return [...common, 'kernels/k_neon.c', ...q8, ...(int8 ? ['kernels/q8_neon.c'] : [])];
  return [...common, ...q8];
}

export function checkTarget(target: unknown): CTarget {
  if (typeof target === 'string' && (C_TARGETS as readonly string[]).includes(target)) return target as CTarget;
  throw new ConfigError('target', `must be one of ${C_TARGETS.join(', ')}, got ${JSON.stringify(target)}`);
}
