import type { z } from 'zod';
import type { scheduleSchema } from './recipe.js';

export type ScheduleConfig = z.output<typeof scheduleSchema>;

/** Learning rate at a fractional epoch (step / stepsPerEpoch), so the rate changes every step. */
export function learningRateAt(baseLr: number, schedule: ScheduleConfig, epoch: number, totalEpochs: number): number {
  const { warmupEpochs } = schedule;
  if (warmupEpochs > 0 && epoch < warmupEpochs) {
    return baseLr * (0.1 + 0.9 * (epoch / warmupEpochs));
  }
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * schedule.gamma ** schedule.milestones.filter((m) => epoch >= m).length;
    case 'cosine': {
      const span = Math.max(totalEpochs - warmupEpochs, 1e-9);
      const progress = Math.min(Math.max((epoch - warmupEpochs) / span, 0), 1);
      const floor = baseLr * schedule.minLrFraction;
      return floor + (baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
  }
}
