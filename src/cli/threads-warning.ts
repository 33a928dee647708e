import { availableParallelism } from 'node:os';

/** One line on stderr when more compute threads are asked for than the machine has cores: they would only take turns. */
export function warnAboveCores(threads: number, option: string): void {
  const cores = availableParallelism();
  if (threads <= cores) return;
  process.stderr.write(`dst: warning: ${option} ${threads} is more than the ${cores} cores of this machine; the extra threads only compete for them\n`);
}
