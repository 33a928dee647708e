/**
 * `--nproc N`: runs the same command as N worker processes on this host, as
 * torchrun does, with PyTorch's variables (RANK, WORLD_SIZE, LOCAL_RANK,
 * MASTER_ADDR, MASTER_PORT) telling each which rank it is. The launcher
 * forwards rank 0's output (progress included) and the others' warnings,
 * forwards Ctrl-C, and when a worker fails stops the rest and ends with one
 * line naming the rank.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ConfigError } from '../errors.js';
import { workerArgs, type LaunchFlags } from './distributed-flags.js';
import { WorkerOutput } from './worker-output.js';

interface Worker {
  rank: number;
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** How long the others get to stop after a failure or a forwarded signal, before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** A port nobody listens on right now: the kernel's pick for a throw-away server. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function splitMaster(master: string): { addr: string; port: string } {
  const at = master.lastIndexOf(':');
  const addr = master.slice(0, Math.max(at, 0)).replace(/^\[(.*)\]$/, '$1');
  const port = master.slice(at + 1);
  if (at <= 0 || addr === '' || !/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw new ConfigError('--master', `must be 'HOST:PORT' with a port in 1..65535, got '${master}'`);
  }
  return { addr, port };
}

/** Where rank 0's store listens: --master, else (one host only) loopback and a free port. */
async function rendezvousAddress(flags: LaunchFlags, nnodes: number): Promise<{ addr: string; port: string }> {
  if (flags.master !== undefined) return splitMaster(flags.master);
  if (nnodes > 1) throw new ConfigError('--master', `is required with --nnodes ${nnodes}: the address and port of host 0 (--node-rank 0), the same on every host`);
  return { addr: '127.0.0.1', port: String(await freePort('127.0.0.1')) };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Runs the workers of this host and returns the launcher's exit code. */
export async function launch(flags: LaunchFlags, args: readonly string[]): Promise<number> {
  const nproc = flags.nproc ?? 1;
  const nnodes = flags.nnodes ?? 1;
  const nodeRank = flags.nodeRank ?? (nnodes === 1 ? 0 : undefined);
  if (nodeRank === undefined) throw new ConfigError('--node-rank', `is required with --nnodes ${nnodes}: this host's index, 0..${nnodes - 1}`);
  if (nodeRank >= nnodes) throw new ConfigError('--node-rank', `must be below --nnodes (${nnodes}), got ${nodeRank}`);
  const { addr, port } = await rendezvousAddress(flags, nnodes);
  const worldSize = nproc * nnodes;
  const script = process.argv[1]!;
  const rest = workerArgs(args);
  const ttyColumns = process.stderr.isTTY ? String(process.stderr.columns ?? 120) : undefined;

  let failure: string | undefined;
  let failedRank: number | undefined;
  let interrupted: NodeJS.Signals | undefined;
  const workers: Worker[] = [];
  // After a failure only the failed rank's own words are passed on; the others' are its consequences.
  // After a forwarded Ctrl-C rank 0 still says where its checkpoint is.
  const open = (rank: number): boolean => (failure === undefined && interrupted === undefined) || rank === failedRank || (interrupted !== undefined && rank === 0);
  const stderr = new WorkerOutput(process.stderr, open);
  for (let local = 0; local < nproc; local++) {
    const rank = nodeRank * nproc + local;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      RANK: String(rank),
      WORLD_SIZE: String(worldSize),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(nproc),
      GROUP_RANK: String(nodeRank),
      MASTER_ADDR: addr,
      MASTER_PORT: port,
      DST_LAUNCHER_PID: String(process.pid),
      // c10d logs its retries and failures through glog; dst reports them itself, in one line (set it to 0 to see them).
      GLOG_minloglevel: process.env.GLOG_minloglevel ?? '3',
      // The command to quote in notes ("continue with: dst train ... --resume"): the user's, launcher flags included.
      DST_LAUNCH_ARGS: JSON.stringify(args),
      ...(flags.distTimeout !== undefined ? { DST_DIST_TIMEOUT_MS: String(flags.distTimeout * 1000) } : {}),
      ...(rank === 0 && ttyColumns !== undefined ? { DST_PROGRESS_COLUMNS: ttyColumns } : {}),
    };
    // Own process group: a Ctrl-C on the terminal reaches the launcher alone, which forwards it once.
    const child = spawn(process.execPath, [...process.execArgv, script, ...rest], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (chunk: Buffer) => {
      if (rank === 0 && open(0)) process.stdout.write(chunk);
    });
    stderr.attach(child.stderr, rank);
    workers.push({ rank, child, exit });
  }

  const stopAll = (signal: NodeJS.Signals): void => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill(signal);
    setTimeout(() => {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted !== undefined) return;
    interrupted = signal;
    stopAll(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(
      workers.map(async (w) => {
        const { code, signal } = await w.exit;
        if ((code !== 0 || signal !== null) && failure === undefined && interrupted === undefined) {
          failure = `rank ${w.rank} (pid ${w.child.pid}) ${describeExit(code, signal)}`;
          failedRank = w.rank;
          stopAll('SIGTERM');
        }
      }),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stderr.flush();
  }
  if (interrupted !== undefined) return interrupted === 'SIGINT' ? 130 : 143;
  if (failure !== undefined) {
    const others = workers.length - 1;
    process.stderr.write(`dst: error: ${failure}${others > 0 ? `; stopped the other ${others === 1 ? 'rank' : `${others} ranks`} on this host` : ''}\n`);
    return 1;
  }
  return 0;
}
