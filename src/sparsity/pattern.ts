import { ConfigError } from '../errors.js';

/** Group sizes a UHP kernel supports: a group's pattern index fits a small lookup table. */
export const UHP_GROUP_SIZES: readonly number[] = [2, 4, 8, 16];

export interface UhpPattern {
  kind: 'uhp';
  /** Weights kept per group of `m`. */
  n: number;
  /** Group size along the input channels. */
  m: number;
  /** Consecutive output channels sharing one mask per group. */
  block: number;
}

export interface UnstructuredPattern {
  kind: 'unstructured';
  /** Fraction of weights set to zero. */
  sparsity: number;
  /** `layer`: each layer loses `sparsity` of its weights; `global`: one threshold over all. */
  scope: 'layer' | 'global';
}

export interface ChannelPattern {
  kind: 'channel';
  /** Fraction of output channels (whole filters) set to zero, per layer. */
  sparsity: number;
}

export type Pattern = { kind: 'dense' } | UhpPattern | UnstructuredPattern | ChannelPattern;

const SPEC_FORMS =
  "expected 'dense', 'uhp:M', 'uhp:N:M', 'uhp:N:M:B', 'unstructured:S', 'unstructured:S:global' or 'channel:S'";

/**
 * Parses a pattern spec as written on the command line or in a recipe.
 * `key` names the option in error messages (the CLI passes '--sparsity').
 */
export function parsePattern(spec: string, key = 'sparsity'): Pattern {
  const fail = (detail: string): never => {
    throw new ConfigError(key, `'${spec}': ${detail}`);
  };
  const parts = spec.trim().split(':');
  const kind = parts[0];
  const args = parts.slice(1);

  const integer = (text: string, what: string): number => {
    if (!/^\d+$/.test(text)) fail(`${what} must be a positive integer (got '${text}')`);
    return Number(text);
  };
  const fraction = (text: string): number => {
    const value = /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
    if (!(value > 0 && value < 1)) fail(`sparsity must be a number strictly between 0 and 1 (got '${text}')`);
    return value;
  };

  let pattern: Pattern;
  switch (kind) {
    case 'dense':
      if (args.length !== 0) fail(SPEC_FORMS);
      pattern = { kind: 'dense' };
      break;
    case 'uhp': {
      if (args.length < 1 || args.length > 3) fail(SPEC_FORMS);
      const m = integer(args.length === 1 ? args[0]! : args[1]!, 'M');
      const n = args.length === 1 ? m / 2 : integer(args[0]!, 'N');
      const block = args.length === 3 ? integer(args[2]!, 'B') : 1;
      pattern = { kind: 'uhp', n, m, block };
      break;
    }
    case 'unstructured': {
      if (args.length < 1 || args.length > 2) fail(SPEC_FORMS);
      const scope = args[1] ?? 'layer';
      if (scope !== 'layer' && scope !== 'global') fail(`scope must be 'layer' or 'global' (got '${scope}')`);
      pattern = { kind: 'unstructured', sparsity: fraction(args[0]!), scope: scope as 'layer' | 'global' };
      break;
    }
    case 'channel':
      if (args.length !== 1) fail(SPEC_FORMS);
      pattern = { kind: 'channel', sparsity: fraction(args[0]!) };
      break;
    default:
      return fail(SPEC_FORMS);
  }
  const problem = patternProblem(pattern, { zeroSparsity: false });
  if (problem !== undefined) fail(problem);
  return pattern;
}

/** The canonical spec of a pattern; `parsePattern(formatPattern(p))` equals `p`. */
export function formatPattern(pattern: Pattern): string {
  switch (pattern.kind) {
    case 'dense':
      return 'dense';
    case 'uhp':
      return pattern.block === 1
        ? `uhp:${pattern.n}:${pattern.m}`
        : `uhp:${pattern.n}:${pattern.m}:${pattern.block}`;
    case 'unstructured':
      return pattern.scope === 'layer'
        ? `unstructured:${pattern.sparsity}`
        : `unstructured:${pattern.sparsity}:global`;
    case 'channel':
      return `channel:${pattern.sparsity}`;
  }
}

/**
 * Checks a pattern built in code. Sparsity 0 is accepted here (unlike in a spec)
 * because a gradual schedule starts from it.
 */
export function validatePattern(pattern: Pattern, key = 'sparsity'): void {
  const problem = patternProblem(pattern, { zeroSparsity: true });
  if (problem !== undefined) throw new ConfigError(key, `${formatPattern(pattern)}: ${problem}`);
}

function patternProblem(pattern: Pattern, allow: { zeroSparsity: boolean }): string | undefined {
  switch (pattern.kind) {
    case 'dense':
      return undefined;
    case 'uhp':
      if (!UHP_GROUP_SIZES.includes(pattern.m)) {
        return `M must be one of ${UHP_GROUP_SIZES.join(', ')} (got ${pattern.m})`;
      }
      if (!Number.isInteger(pattern.n) || pattern.n < 1 || pattern.n >= pattern.m) {
        return `N must be an integer with 1 <= N < M (got N=${pattern.n}, M=${pattern.m})`;
      }
      if (!Number.isInteger(pattern.block) || pattern.block < 1) {
        return `block B must be an integer >= 1 (got ${pattern.block})`;
      }
      return undefined;
    case 'unstructured':
    case 'channel': {
      const s = pattern.sparsity;
      const low = allow.zeroSparsity ? s >= 0 : s > 0;
      if (!(low && s < 1)) {
        return `sparsity must be in ${allow.zeroSparsity ? '[0, 1)' : '(0, 1)'} (got ${s})`;
      }
      if (pattern.kind === 'unstructured' && pattern.scope !== 'layer' && pattern.scope !== 'global') {
        return `scope must be 'layer' or 'global' (got '${String(pattern.scope)}')`;
      }
      return undefined;
    }
  }
}
