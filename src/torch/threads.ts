import { ConfigError } from '../errors.js';
import { torchAddon } from './native.js';

export function getNumThreads(): number {
  return torchAddon().getNumThreads();
}

/**
 * LibTorch 1.13 at batch 1 is several times slower with 2 threads than with 1
 * (thread start-up dominates), so callers choose deliberately; see DESIGN §7.
 */
export function setNumThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new ConfigError('threads', `must be a positive integer, got ${threads}`);
  torchAddon().setNumThreads(threads);
}
