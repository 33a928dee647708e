import { ConfigError, DstError } from '../errors.js';
import { torchAddon } from './native.js';
import type { Tensor } from './tensor.js';

/** Options of `initProcessGroup`; each missing one falls back to PyTorch's variable of the same meaning. */
export interface ProcessGroupOptions {
  /** This process's rank, 0 ≤ rank < worldSize (else `RANK`). Rank 0 hosts the rendezvous store. */
  rank?: number;
  /** How many processes take part (else `WORLD_SIZE`). */
  worldSize?: number;
  /** 'HOST:PORT' of rank 0's store (else `MASTER_ADDR` and `MASTER_PORT`). */
  master?: string;
  /** Longest wait of the rendezvous and of every collective, in ms (default 300000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 300_000;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

function intOption(key: string, value: number | undefined, min: number): number {
  if (value === undefined) throw new ConfigError(key, 'is required');
  if (!Number.isInteger(value) || value < min) throw new ConfigError(key, `must be an integer >= ${min}, got ${value}`);
  return value;
}

/** Splits 'HOST:PORT' (IPv6 in brackets: '[::1]:29500'). */
function parseMaster(master: string): { host: string; port: number } {
  const at = master.lastIndexOf(':');
  const host = master.slice(0, Math.max(at, 0)).replace(/^\[(.*)\]$/, '$1');
  const portText = master.slice(at + 1);
  const port = Number(portText);
  if (at <= 0 || host === '' || !/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new ConfigError('master', `must be 'HOST:PORT' with a port in 1..65535, got '${master}'`);
  }
  return { host, port };
}

function masterOption(master: string | undefined): { host: string; port: number } {
  if (master !== undefined) return parseMaster(master);
  const host = process.env.MASTER_ADDR;
  const port = process.env.MASTER_PORT;
  if (!host || !port) throw new ConfigError('master', "is required ('HOST:PORT', or MASTER_ADDR and MASTER_PORT)");
  return parseMaster(`${host.includes(':') ? `[${host}]` : host}:${port}`);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Rethrows the addon's one-line failure as a DstError, so the CLI prints it as it is. */
function collective<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof DstError) throw err;
    throw new DstError('E_DISTRIBUTED', (err as Error).message);
  }
}

/** Opaque native process group (c10d::TCPStore plus c10d::ProcessGroupGloo). */
interface NativeGroup {
  readonly __brand: 'ProcessGroup';
}

interface DistributedAddon {
  distAvailable(): boolean;
  distInit(rank: number, worldSize: number, host: string, port: number, timeoutMs: number, iface: string, deviceHost: string): NativeGroup;
  distAllReduce(g: NativeGroup, tensors: unknown[]): void;
  distBroadcast(g: NativeGroup, tensors: unknown[], root: number): void;
  distBarrier(g: NativeGroup): void;
  distDestroy(g: NativeGroup): void;
}

function addon(): DistributedAddon {
  return torchAddon() as unknown as DistributedAddon;
}

/** Whether this build of the addon has the c10d/Gloo bindings (they need Gloo's headers at build time). */
export function distributedAvailable(): boolean {
  return addon().distAvailable();
}

/**
 * A group of processes running the same collectives in the same order, over
 * LibTorch's Gloo backend on CPU. Every call blocks until all ranks took part,
 * or fails with one line naming the operation and the rank after the timeout
 * or as soon as a peer is lost.
 */
export class ProcessGroup {
  #group: NativeGroup | null;

  constructor(
    group: NativeGroup,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    this.#group = group;
  }

  get #native(): NativeGroup {
    if (this.#group === null) throw new DstError('E_DISTRIBUTED', 'process group was destroyed');
    return this.#group;
  }

  /** Sums each float32 tensor over all ranks, in place; `average` then divides by the world size. */
  allReduce(tensors: readonly Tensor[], options: { average?: boolean } = {}): void {
    const group = this.#native;
    collective(() => addon().distAllReduce(group, tensors.map((t) => t.handle)));
    // Gloo has no average for CPU tensors in this LibTorch: a sum then one division per tensor.
    if (options.average) for (const t of tensors) t.div_(this.worldSize);
  }

  /** Overwrites each float32 tensor, in place, with its value on `root`. */
  broadcast(tensors: readonly Tensor[], root: number): void {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) {
      throw new ConfigError('root', `must be an integer in 0..${this.worldSize - 1}, got ${root}`);
    }
    const group = this.#native;
    collective(() => addon().distBroadcast(group, tensors.map((t) => t.handle), root));
  }

  /** Returns once every rank has called it. */
  barrier(): void {
    const group = this.#native;
    collective(() => addon().distBarrier(group));
  }

  /** Closes the connections (and, on rank 0, the store); later calls throw. Safe to call twice. */
  destroy(): void {
    if (this.#group === null) return;
    addon().distDestroy(this.#group);
    this.#group = null;
  }
}

/**
 * Joins a process group: rank 0 hosts the rendezvous store at `master`, the
 * others connect to it, then all connect to each other. Blocks until every rank
 * joined or `timeoutMs` passed. On a loopback master the Gloo transport stays
 * on loopback; otherwise it binds to `GLOO_SOCKET_IFNAME` if set, else to the
 * address this machine's hostname resolves to (as PyTorch does).
 */
export function initProcessGroup(options: ProcessGroupOptions = {}): ProcessGroup {
  const worldSize = intOption('worldSize', options.worldSize ?? envInt('WORLD_SIZE'), 1);
  const rank = intOption('rank', options.rank ?? envInt('RANK'), 0);
  if (rank >= worldSize) throw new ConfigError('rank', `must be below worldSize (${worldSize}), got ${rank}`);
  const timeoutMs = intOption('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1);
  const { host, port } = masterOption(options.master);
  const native = addon();
  if (!native.distAvailable()) {
    throw new DstError('E_DISTRIBUTED', "the native addon was built without Gloo's headers (Debian: libgloo-dev); rebuild it after installing them");
  }
  const iface = process.env.GLOO_SOCKET_IFNAME ?? '';
  const deviceHost = iface === '' && isLoopback(host) ? host : '';
  const group = collective(() => native.distInit(rank, worldSize, host, port, timeoutMs, iface, deviceHost));
  return new ProcessGroup(group, rank, worldSize);
}
