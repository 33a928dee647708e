/**
 * The launcher's flags, shared by `dst train`, `dst distill` and `dst
 * pipeline`, and what a worker process makes of PyTorch's variables.
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { ProcessGroup } from '../torch/distributed.js';
import { positiveInt } from './parse.js';

export interface LaunchFlags {
  nproc?: number;
  nnodes?: number;
  nodeRank?: number;
  master?: string;
  distTimeout?: number;
}

/** The flags the launcher consumes; its workers get the rest of the command line. */
export const LAUNCH_FLAGS = ['--nproc', '--nnodes', '--node-rank', '--master', '--dist-timeout'] as const;

function nonNegativeInt(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new ConfigError(option, `expected a non-negative integer, got '${value}'`);
    return n;
  };
}

export function addDistributedFlags(cmd: Command): Command {
  return cmd
    .option('--nproc <n>', 'data-parallel: worker processes on this host (torchrun --nproc-per-node); --batch-size stays the global batch', positiveInt('--nproc'))
    .option('--nnodes <k>', 'data-parallel: hosts taking part, each running the same command with its --node-rank', positiveInt('--nnodes'))
    .option('--node-rank <r>', "data-parallel: this host's index, 0..nnodes-1 (host 0 runs rank 0, which writes the run folder)", nonNegativeInt('--node-rank'))
    .option('--master <host:port>', "data-parallel: address of host 0's rendezvous store (default with one host: 127.0.0.1 and a free port)")
    .option('--dist-timeout <seconds>', 'data-parallel: longest wait for the other ranks, at the rendezvous and in every step (default 300)', positiveInt('--dist-timeout'));
}

/** Whether this command line asks to launch workers (rather than be one, or run alone). */
export function wantsLaunch(flags: LaunchFlags): boolean {
  return (flags.nproc ?? 1) > 1 || (flags.nnodes ?? 1) > 1;
}

/** The rest of the command line after the launcher's own flags (either `--flag value` or `--flag=value`). */
export function workerArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.split('=')[0]!;
    if ((LAUNCH_FLAGS as readonly string[]).includes(name)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * The process group of a worker: PyTorch's variables (set by `--nproc`, by
 * torchrun-style scripts, Slurm or Kubernetes jobs) say it is one. None, or a
 * world of one, is a plain single-process run.
 */
export async function joinFromEnvironment(flags: LaunchFlags): Promise<ProcessGroup | undefined> {
  const worldSize = process.env.WORLD_SIZE;
  if (worldSize === undefined || worldSize === '' || worldSize === '1') {
    const stray = (['master', 'nodeRank', 'distTimeout'] as const).find((k) => flags[k] !== undefined);
    if (stray !== undefined) {
      const option = { master: '--master', nodeRank: '--node-rank', distTimeout: '--dist-timeout' }[stray];
      throw new ConfigError(option, 'only applies to a data-parallel run: add --nproc N (N > 1) or --nnodes K (K > 1), or start dst with WORLD_SIZE set');
    }
    return undefined;
  }
  const { initProcessGroup } = await import('../torch/distributed.js');
  const fromEnv = process.env.DST_DIST_TIMEOUT_MS;
  const timeoutMs = flags.distTimeout !== undefined ? flags.distTimeout * 1000 : fromEnv ? Number(fromEnv) : undefined;
  // --master given to a worker that a cluster script started wins over MASTER_ADDR/MASTER_PORT, as on the launcher.
  const group = initProcessGroup({ timeoutMs, master: flags.master });
  watchLauncher();
  return group;
}

/**
 * A worker started by `--nproc` ends when its launcher is gone (killed
 * outright, so it could not stop its workers): training on alone would hold
 * the CPU and the run folder for nothing.
 */
function watchLauncher(): void {
  const launcher = Number(process.env.DST_LAUNCHER_PID);
  if (!Number.isInteger(launcher) || launcher <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid !== launcher) {
      process.stderr.write(`dst: error: rank ${process.env.RANK}: its launcher (pid ${launcher}) is gone; stopping\n`);
      process.exit(1);
    }
  }, 1000);
  timer.unref();
}
