import { ConfigError } from '../errors.js';

function check(ok: boolean, key: string, detail: string): void {
  if (!ok) throw new ConfigError(key, detail);
}

const isCount = (value: number) => Number.isInteger(value) && value >= 0;

/**
 * Gradual N:M: the keep count per group steps down one at a time from `m - 1`
 * (at `startEpoch`) to `n`, each count held for `epochs / (m - n)` epochs, so
 * the last count, `n`, gets its share of the ramp while masks still move and
 * pruned weights can come back; 2:4 over 4 epochs from 10 gives 3:4 at
 * [10, 12), 2:4 from 12. (Stepping from `m` instead would reach `n` only at
 * the ramp's last step, a one-shot cut from `n + 1` that the fixed masks then
 * keep.) `epochs = 0` is one-shot: `n` from `startEpoch`. Before `startEpoch`
 * the keep count is `m` (dense).
 */
export interface NmSchedule {
  n: number;
  m: number;
  startEpoch: number;
  epochs: number;
}

/** Keep count at `epoch`, which may be fractional (step / steps per epoch). */
export function keepCountAt(schedule: NmSchedule, epoch: number): number {
  const { n, m, startEpoch, epochs } = schedule;
  check(Number.isInteger(n) && Number.isInteger(m) && n >= 1 && n <= m, 'schedule', `needs integers 1 <= n <= m (got n=${n}, m=${m})`);
  check(startEpoch >= 0 && epochs >= 0, 'schedule', `startEpoch and epochs must be >= 0 (got ${startEpoch}, ${epochs})`);
  if (epoch < startEpoch) return m;
  if (epochs === 0) return n;
  // Multiply before dividing so integral epochs land exactly on the step boundaries.
  return Math.max(n, m - 1 - Math.floor(((epoch - startEpoch) * (m - n)) / epochs));
}

/**
 * Zhu & Gupta 2017: `s_t = s_f + (s_i − s_f)·(1 − (t − t0)/(n·Δt))³`, with the
 * sparsity raised only at `t0, t0 + Δt, ..., t0 + n·Δt` and constant between;
 * `s_i` before `t0`, `s_f` from `t0 + n·Δt` on.
 */
export interface CubicSchedule {
  initialSparsity: number;
  finalSparsity: number;
  startStep: number;
  /** `n`: how many times the sparsity is raised after `t0`. */
  pruningSteps: number;
  /** `Δt`: training steps between two raises. */
  interval: number;
}

export function cubicSparsityAt(schedule: CubicSchedule, step: number): number {
  const { initialSparsity: si, finalSparsity: sf, startStep, pruningSteps, interval } = schedule;
  check(si >= 0 && sf < 1 && si <= sf, 'schedule', `needs 0 <= initialSparsity <= finalSparsity < 1 (got ${si}, ${sf})`);
  check(isCount(startStep) && isCount(pruningSteps) && isCount(interval) && interval >= 1, 'schedule',
    `startStep and pruningSteps must be integers >= 0, interval >= 1 (got ${startStep}, ${pruningSteps}, ${interval})`);
  if (step < startStep) return si;
  if (pruningSteps === 0) return sf;
  const raised = Math.min(pruningSteps, Math.floor((step - startStep) / interval));
  return sf + (si - sf) * (1 - raised / pruningSteps) ** 3;
}

/**
 * When masks are re-chosen: at steps `from, from + every, ...` below `until`;
 * from `until` on the mask is fixed. One-shot: `until = from + 1`.
 */
export interface MaskUpdatePolicy {
  every: number;
  until: number;
  from?: number;
}

export function maskUpdateDue(policy: MaskUpdatePolicy, step: number): boolean {
  const from = policy.from ?? 0;
  check(Number.isInteger(policy.every) && policy.every >= 1, 'maskUpdate.every', `must be an integer >= 1 (got ${policy.every})`);
  check(isCount(from) && isCount(policy.until), 'maskUpdate', `from and until must be integers >= 0 (got ${from}, ${policy.until})`);
  return step >= from && step < policy.until && (step - from) % policy.every === 0;
}
