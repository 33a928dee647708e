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
