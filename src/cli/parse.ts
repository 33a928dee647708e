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

/** A comma-separated list of distinct non-negative integers, such as `0,1,2`. */
export function seedList(option: string): (value: string) => number[] {
  return (value) => {
    const seeds = value.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
    if (seeds.some((n) => !Number.isSafeInteger(n))) throw new ConfigError(option, `expected comma-separated non-negative integers such as 0,1,2, got '${value}'`);
    if (new Set(seeds).size !== seeds.length) throw new ConfigError(option, `lists a seed twice: '${value}'`);
    return seeds;
  };
}
