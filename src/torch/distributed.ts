import { hostname } from 'node:os';
import { ConfigError, DstError } from '../errors.js';
import { dstVersion } from '../version.js';
import { torchAddon } from './native.js';
import { Tensor } from './tensor.js';

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

/** Opaque native process group (c10d::TCPStore plus c10d::ProcessGroupGloo). */
interface NativeGroup {
  readonly __brand: 'ProcessGroup';
}

interface DistributedAddon {
  distAvailable(): boolean;
  distStore(rank: number, worldSize: number, host: string, port: number, timeoutMs: number): NativeGroup;
  distConnect(g: NativeGroup, iface: string, deviceHost: string): void;
  distStoreSet(g: NativeGroup, key: string, value: string): void;
  distStoreGet(g: NativeGroup, key: string, timeoutMs: number): string | null;
  distStoreAdd(g: NativeGroup, key: string, delta: number): number;
  distAllReduce(g: NativeGroup, tensors: unknown[]): void;
  distBroadcast(g: NativeGroup, tensors: unknown[], root: number): void;
  distBarrier(g: NativeGroup): void;
  distSyncBatchNorm(g: NativeGroup, x: unknown, weight: unknown, bias: unknown, runningMean: unknown, runningVar: unknown, momentum: number, eps: number): unknown;
  distDestroy(g: NativeGroup): void;
}

function addon(): DistributedAddon {
  return torchAddon() as unknown as DistributedAddon;
}

/** Whether this build of the addon has the c10d/Gloo bindings (they need Gloo's headers at build time). */
export function distributedAvailable(): boolean {
  return addon().distAvailable();
}

/** How long survivors of a failed collective wait for each other's reports before naming the ranks that sent none. */
const DIAGNOSIS_GRACE_MS = 3_000;
/** Store keys of the failure protocol; `dst/failed` is also polled by the addon between wait slices. */
const FAILED_KEY = 'dst/failed';
const downKey = (rank: number): string => `dst/down/${rank}`;
const doneKey = (rank: number): string => `dst/diagnosed/${rank}`;

/**
 * A group of processes running the same collectives in the same order, over
 * LibTorch's Gloo backend on CPU. Every call blocks until all ranks took part,
 * or fails with one line naming the operation, this rank and the lost ones
 * (after the time-out, or as soon as a peer is lost).
 */
export class ProcessGroup {
  #group: NativeGroup | null;
  /** Numbers the values shared through the store, which every rank shares in the same order. */
  #shared = 0;

  constructor(
    group: NativeGroup,
    readonly rank: number,
    readonly worldSize: number,
    readonly timeoutMs: number,
  ) {
    this.#group = group;
  }

  get #native(): NativeGroup {
    if (this.#group === null) throw new DstError('E_DISTRIBUTED', 'process group was destroyed');
    return this.#group;
  }

  /** Sums each float32 tensor over all ranks, in place (one coalesced collective); `average` then divides by the world size. */
  allReduce(tensors: readonly Tensor[], options: { average?: boolean } = {}): void {
    const group = this.#native;
    this.#collective(() => addon().distAllReduce(group, tensors.map((t) => t.handle)));
    // Gloo has no average for CPU tensors in this LibTorch: a sum then one division per tensor.
    if (options.average) for (const t of tensors) t.div_(this.worldSize);
  }

  /** Overwrites each float32 tensor, in place, with its value on `root`. */
  broadcast(tensors: readonly Tensor[], root: number): void {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize) {
      throw new ConfigError('root', `must be an integer in 0..${this.worldSize - 1}, got ${root}`);
    }
    const group = this.#native;
    this.#collective(() => addon().distBroadcast(group, tensors.map((t) => t.handle), root));
  }

  /** Returns once every rank has called it. */
  barrier(): void {
    const group = this.#native;
    this.#collective(() => addon().distBarrier(group));
  }

  /**
   * Training-mode BatchNorm whose statistics span the images of every rank
   * (PyTorch's SyncBatchNorm): its forward and its backward pass each
   * all-reduce per-channel sums, so every rank must run the same layers in
   * the same order. Updates the running statistics in place.
   */
  syncBatchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, runningMean: Tensor, runningVar: Tensor, momentum: number, eps: number): Tensor {
    const group = this.#native;
    let handle: unknown;
    this.#collective(() => {
      handle = addon().distSyncBatchNorm(group, x.handle, weight?.handle ?? null, bias?.handle ?? null, runningMean.handle, runningVar.handle, momentum, eps);
    });
    return new Tensor(handle as Tensor['handle']);
  }

  /**
   * Runs `fn`, in which native code may reach this group's collectives (the
   * backward pass of sync BatchNorm): their failure becomes the same one line
   * naming the lost ranks as a direct call's.
   */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof DstError) && /failed on rank \d+ of \d+/.test((err as Error).message)) this.#fail((err as Error).message);
      throw err;
    }
  }

  /**
   * Rank 0's `value` on every rank (JSON through the store): for decisions
   * only rank 0 can take, such as whether its run folder holds a checkpoint.
   * Every rank calls it at the same point; the others' `value` is ignored.
   */
  shareFromRoot<T>(value: T): T {
    const group = this.#native;
    const key = `dst/shared/${this.#shared++}`;
    if (this.rank === 0) {
      this.#store(() => addon().distStoreSet(group, key, JSON.stringify(value ?? null)));
      return value;
    }
    const text = this.#store(() => addon().distStoreGet(group, key, this.timeoutMs));
    if (text === null) this.#fail(`waiting for rank 0 failed on rank ${this.rank} of ${this.worldSize}: nothing came within ${this.timeoutMs} ms`);
    return JSON.parse(text) as T;
  }

  /** Closes the connections (and, on rank 0, the store); later calls throw. Safe to call twice. */
  destroy(): void {
    if (this.#group === null) return;
    addon().distDestroy(this.#group);
    this.#group = null;
  }

  #store<T>(run: () => T): T {
    try {
      return run();
    } catch (err) {
      this.#fail((err as Error).message);
    }
  }

  #collective(run: () => void): void {
    try {
      run();
    } catch (err) {
      if (err instanceof DstError) throw err;
      this.#fail((err as Error).message);
    }
  }

  /**
   * After a failure: tells the other ranks through the store, waits briefly
   * for theirs and names the ranks that sent none. Gloo's own message names a
   * peer's address at best; a rank that reports nothing within the grace has
   * exited, was killed or hangs. Rank 0 hosts the store, so it waits for the
   * others' conclusions before its process may end and take the store along.
   */
  #fail(line: string): never {
    const group = this.#group;
    this.#group = null;
    if (group === null) throw new DstError('E_DISTRIBUTED', line);
    const native = addon();
    const others = Array.from({ length: this.worldSize }, (_, r) => r).filter((r) => r !== this.rank);
    // Short time-outs (tests, impatient users) get a shorter grace too.
    const grace = Math.min(DIAGNOSIS_GRACE_MS, Math.max(500, Math.floor(this.timeoutMs / 2)));
    let lost: number[] | null;
    try {
      native.distStoreSet(group, downKey(this.rank), '1');
      native.distStoreAdd(group, FAILED_KEY, 1);
      const deadline = Date.now() + grace;
      lost = others.filter((r) => native.distStoreGet(group, downKey(r), Math.max(1, deadline - Date.now())) === null);
      native.distStoreSet(group, doneKey(this.rank), '1');
      if (this.rank === 0) {
        const until = Date.now() + grace;
        for (const r of others) if (!lost.includes(r)) native.distStoreGet(group, doneKey(r), Math.max(1, until - Date.now()));
      }
    } catch {
      // The store went with rank 0's process.
      lost = null;
    } finally {
      native.distDestroy(group);
    }
    const who =
      lost === null
        ? 'lost rank 0 (it hosts the store, which is unreachable)'
        : lost.length === 0
          ? 'no rank was lost: every rank reported the failure (Gloo does not say which peer it failed on)'
          : `lost rank ${lost.join(', ')} (no report from ${lost.length === 1 ? 'it' : 'them'} within ${grace / 1000} s of the failure: exited, killed or hung)`;
    throw new DstError('E_DISTRIBUTED', `${line}; ${who}`);
  }
}

/** What each rank tells the others at the rendezvous, so a mismatch fails in one line instead of as a Gloo time-out. */
export interface RankCard {
  worldSize: number;
  version: string;
  host: string;
  pid: number;
}

/** Throws one line when another rank's card disagrees with this rank's. */
export function checkRankCard(mine: RankCard, theirs: RankCard, myRank: number, theirRank: number): void {
  if (theirs.worldSize !== mine.worldSize) {
    throw new ConfigError('WORLD_SIZE', `rank ${myRank} (${mine.host}) was started with ${mine.worldSize} ranks, rank ${theirRank} (${theirs.host}) with ${theirs.worldSize}; start every rank with the same --nproc/--nnodes`);
  }
  if (theirs.version !== mine.version) {
    throw new DstError('E_DISTRIBUTED', `rank ${myRank} (${mine.host}) runs dst ${mine.version}, rank ${theirRank} (${theirs.host}) runs dst ${theirs.version}; install the same version on every host`);
  }
}

/** Through the store, before the backend: one process per rank, and the same world size and dst version everywhere. */
function rendezvous(native: DistributedAddon, group: NativeGroup, rank: number, worldSize: number, timeoutMs: number, master: string): void {
  try {
    if (native.distStoreAdd(group, `dst/join/${rank}`, 1) > 1) throw new DstError('E_DISTRIBUTED', `rank ${rank} joined twice: two processes were started with RANK=${rank}`);
    const mine: RankCard = { worldSize, version: dstVersion, host: hostname(), pid: process.pid };
    native.distStoreSet(group, `dst/rank/${rank}`, JSON.stringify(mine));
    const deadline = Date.now() + timeoutMs;
    for (const r of rank === 0 ? Array.from({ length: worldSize - 1 }, (_, i) => i + 1) : [0]) {
      const text = native.distStoreGet(group, `dst/rank/${r}`, Math.max(1, deadline - Date.now()));
      if (text === null) throw new DstError('E_DISTRIBUTED', `rank ${r} did not join the store at ${master} within ${timeoutMs} ms (rank ${rank} of ${worldSize} waited for it)`);
      if (rank !== 0) native.distStoreSet(group, `dst/read/${rank}`, '1');
      try {
        checkRankCard(mine, JSON.parse(text) as RankCard, rank, r);
      } catch (err) {
        // Rank 0's store ends with its process: the other rank gets to read rank 0's card first, so it can say the same.
        if (rank === 0) native.distStoreGet(group, `dst/read/${r}`, Math.min(timeoutMs, 3_000));
        throw err;
      }
    }
  } catch (err) {
    native.distDestroy(group);
    if (err instanceof DstError) throw err;
    const lost = rank === 0 ? '' : '; rank 0, which hosts the store, is gone';
    throw new DstError('E_DISTRIBUTED', `${(err as Error).message}${lost}`);
  }
}

/**
 * Joins a process group: rank 0 hosts the rendezvous store at `master`, the
 * others connect to it; all check through the store that they agree on world
 * size and dst version, then connect to each other. Blocks until every rank
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
  let group: NativeGroup;
  try {
    group = native.distStore(rank, worldSize, host, port, timeoutMs);
  } catch (err) {
    throw new DstError('E_DISTRIBUTED', storeHint((err as Error).message, rank, host, port, timeoutMs));
  }
  rendezvous(native, group, rank, worldSize, timeoutMs, `${host}:${port}`);
  try {
    native.distConnect(group, iface, deviceHost);
  } catch (err) {
    native.distDestroy(group);
    throw new DstError('E_DISTRIBUTED', (err as Error).message);
  }
  return new ProcessGroup(group, rank, worldSize, timeoutMs);
}

/** c10d's words for the usual rendezvous failures, as what happened and what to do. */
function storeHint(message: string, rank: number, host: string, port: number, timeoutMs: number): string {
  const head = message.slice(0, message.indexOf(': ') + 2);
  if (/address already in use/i.test(message)) return `${head}port ${port} is in use on this host; choose another port (--master HOST:PORT or MASTER_PORT)`;
  if (rank !== 0 && /timed out|timeout/i.test(message)) {
    return `${head}nothing answered at ${host}:${port} within ${timeoutMs} ms; is rank 0 (--node-rank 0) running, and is ${host} reachable from this host?`;
  }
  return message;
}
