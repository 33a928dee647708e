import { closeSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, DstError } from '../errors.js';

/** The lock file a running process keeps in its run folder, holding its pid. */
export const LOCK_FILE = '.dst-lock';

/** What a dst run folder can hold; a folder holding anything else is not one. */
const RUN_ENTRIES = new Set([LOCK_FILE, 'recipe.yaml', 'metrics.jsonl', 'model.safetensors', 'summary.json', 'curves.svg', 'checkpoints', 'dense', 'changes.jsonl']);

/** Another live process holds the run folder. */
export class RunLockedError extends DstError {
  constructor(
    readonly folder: string,
    readonly pid: number,
  ) {
    super('E_LOCKED', `${folder} is in use by dst process ${pid}; wait for it to end or choose another folder`);
    this.name = 'RunLockedError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses a path that is a file, or a folder holding files that are not a run's, before anything is written there. */
function checkFolder(dir: string, option: string): boolean {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    return false;
  }
  if (!isDirectory) throw new ConfigError(option, `${dir} is a file, not a run folder; choose another ${option}`);
  const stray = readdirSync(dir).find((entry) => !RUN_ENTRIES.has(entry) && !entry.includes('.tmp-'));
  if (stray !== undefined && !readdirSync(dir).some((entry) => RUN_ENTRIES.has(entry) && entry !== LOCK_FILE)) {
    throw new ConfigError(option, `${dir} holds files that are not a dst run (${stray}); choose a new or empty folder`);
  }
  return true;
}

/**
 * Exclusive use of a run folder for the life of a run: a lock file created
 * atomically (a hard link of a file that already holds the pid, so no reader
 * sees it empty), taken over when its process has died, removed on release
 * or when the process exits.
 */
export class RunFolder {
  readonly lockFile: string;
  /** The outermost folder this run created, which it removes again if it fails before writing anything worth keeping. */
  readonly #created: string | undefined;
  readonly #onExit = (): void => this.release();
  #held = false;

  private constructor(
    readonly root: string,
    created: string | undefined,
  ) {
    this.lockFile = path.join(root, LOCK_FILE);
    this.#created = created;
  }

  static hold(dir: string, option = '--out'): RunFolder {
    const existed = checkFolder(dir, option);
    const created = existed ? undefined : mkdirSync(dir, { recursive: true });
    const folder = new RunFolder(dir, created);
    folder.#lock();
    return folder;
  }

  #lock(): void {
    const mine = `${this.lockFile}.${process.pid}`;
    const fd = openSync(mine, 'w');
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    try {
      for (;;) {
        try {
          linkSync(mine, this.lockFile);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = readPid(this.lockFile);
        if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw new RunLockedError(this.root, holder);
        this.#takeOver(holder);
      }
    } finally {
      unlinkSync(mine);
    }
    this.#held = true;
    process.on('exit', this.#onExit);
  }

  /** Removes a dead process's lock, unless a live process replaced it since it was read. */
  #takeOver(stalePid: number | undefined): void {
    const aside = `${this.lockFile}.stale-${process.pid}`;
    try {
      renameSync(this.lockFile, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (readPid(aside) !== stalePid) {
      try {
        linkSync(aside, this.lockFile);
      } catch {
        // Someone locked the folder meanwhile; the next attempt reads their pid.
      }
    }
    unlinkSync(aside);
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#onExit);
    if (readPid(this.lockFile) === process.pid) rmSync(this.lockFile, { force: true });
  }

  /** After a failure: removes the folder if this run created it and `keep` says nothing in it is worth keeping. */
  discardIfNew(keep: boolean): void {
    if (this.#created === undefined || keep) return;
    this.release();
    rmSync(this.#created, { recursive: true, force: true });
  }
}

/** Runs `work` holding `dir`; if `work` fails in a folder it created before `keep()` holds, the folder goes too. */
export async function inRunFolder<T>(dir: string, keep: () => boolean, work: () => Promise<T>, option = '--out'): Promise<T> {
  const folder = RunFolder.hold(dir, option);
  try {
    return await work();
  } catch (err) {
    folder.discardIfNew(keep());
    throw err;
  } finally {
    folder.release();
  }
}
