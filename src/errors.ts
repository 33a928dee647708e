/**
 * Every failure a user can cause is a DstError: the CLI prints its message as
 * one line and exits non-zero; library callers can switch on `code`.
 */
export class DstError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DstError';
  }
}

/** A file exists but its content is not what its format requires. */
export class FormatError extends DstError {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super('E_FORMAT', `${file}: ${detail}`);
    this.name = 'FormatError';
  }
}

/** A recipe key, CLI option or function argument has an unusable value. */
export class ConfigError extends DstError {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super('E_CONFIG', `${key}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Shapes, dtypes or state-dict keys do not fit together. */
export class ShapeError extends DstError {
  constructor(message: string) {
    super('E_SHAPE', message);
    this.name = 'ShapeError';
  }
}

/** What each operating-system refusal means for the user, and what to do about it. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device; free some space (or choose a folder on another disk) and run the command again',
  EDQUOT: 'disk quota exceeded; free some space (or choose a folder on another disk) and run the command again',
  EACCES: 'permission denied; choose a folder you may write to, or change its permissions',
  EPERM: 'operation not permitted; choose a folder you may write to, or change its permissions',
  EROFS: 'the file system is read-only; choose a folder on a writable disk',
  EEXIST: 'a file is in the way; remove it or choose another path',
  ENOTDIR: 'a file stands where a folder is needed; remove it or choose another path',
  EISDIR: 'is a folder, not a file; give a file name',
};

/** A Node system error the user can act on. */
export class SystemError extends DstError {
  constructor(
    readonly file: string | undefined,
    systemCode: string,
  ) {
    super(`E_${systemCode}`, `${file === undefined ? '' : `${file}: `}${SYSTEM_ERRORS[systemCode]}`);
    this.name = 'SystemError';
  }
}

/**
 * The user error a Node system error amounts to, naming its path, else
 * `output` (the file or folder being written), or undefined for errors that
 * are not the user's to fix. Temporary names of atomic writes are reported
 * as the file they stand for.
 */
export function fromSystemError(err: unknown, output?: string): SystemError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, path } = err as NodeJS.ErrnoException;
  if (code === undefined || !(code in SYSTEM_ERRORS)) return undefined;
  return new SystemError(path?.replace(/\.tmp-\d+-\d+$/, '') ?? output, code);
}
