import { ConfigError } from '../errors.js';

/** Commander argument parsers that fail with the option's name. */
export function positiveInt(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(option, `expected a positive integer, got '${value}'`);
    return n;
  };
}

export function nonNegativeNumber(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(option, `expected a non-negative number, got '${value}'`);
    return n;
  };
}
