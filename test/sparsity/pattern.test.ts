import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { formatPattern, parsePattern, validatePattern } from '../../src/sparsity/index.js';

describe('parsePattern', () => {
  it('reads every accepted form', () => {
    expect(parsePattern('dense')).toEqual({ kind: 'dense' });
    expect(parsePattern('uhp:2:4')).toEqual({ kind: 'uhp', n: 2, m: 4, block: 1 });
    expect(parsePattern('uhp:2:4:16')).toEqual({ kind: 'uhp', n: 2, m: 4, block: 16 });
    expect(parsePattern('uhp:4')).toEqual({ kind: 'uhp', n: 2, m: 4, block: 1 });
    expect(parsePattern('uhp:16')).toEqual({ kind: 'uhp', n: 8, m: 16, block: 1 });
    expect(parsePattern('uhp:1:8')).toEqual({ kind: 'uhp', n: 1, m: 8, block: 1 });
    expect(parsePattern('unstructured:0.5')).toEqual({ kind: 'unstructured', sparsity: 0.5, scope: 'layer' });
    expect(parsePattern('unstructured:0.5:global')).toEqual({ kind: 'unstructured', sparsity: 0.5, scope: 'global' });
    expect(parsePattern('unstructured:.75:layer')).toEqual({ kind: 'unstructured', sparsity: 0.75, scope: 'layer' });
    expect(parsePattern('channel:0.25')).toEqual({ kind: 'channel', sparsity: 0.25 });
  });

  it('round-trips through formatPattern', () => {
    for (const spec of ['dense', 'uhp:2:4', 'uhp:3:8:4', 'unstructured:0.5', 'unstructured:0.9:global', 'channel:0.3']) {
      expect(formatPattern(parsePattern(spec))).toBe(spec);
    }
  });

  const rejected: Array<[string, RegExp]> = [
    ['uhp:4:4', /N must be an integer with 1 <= N < M \(got N=4, M=4\)/],
    ['uhp:3:5', /M must be one of 2, 4, 8, 16 \(got 5\)/],
    ['uhp:5:4', /N=5, M=4/],
    ['uhp:0:4', /N=0/],
    ['uhp:3', /M must be one of/],
    ['uhp:2:4:0', /block B must be an integer >= 1 \(got 0\)/],
    ['uhp:2:x', /M must be a positive integer \(got 'x'\)/],
    ['uhp', /expected 'dense'/],
    ['unstructured:0', /strictly between 0 and 1 \(got '0'\)/],
    ['unstructured:1', /got '1'/],
    ['unstructured:1.5', /got '1.5'/],
    ['unstructured:-0.5', /got '-0.5'/],
    ['unstructured:abc', /got 'abc'/],
    ['unstructured:0.5:everywhere', /scope must be 'layer' or 'global'/],
    ['channel:0', /got '0'/],
    ['channel:1', /got '1'/],
    ['dense:1', /expected 'dense'/],
    ['nm:2:4', /expected 'dense'/],
  ];
  for (const [spec, detail] of rejected) {
    it(`rejects '${spec}' in one line naming the option and the value`, () => {
      let error: unknown;
      try {
        parsePattern(spec, '--sparsity');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message.startsWith(`--sparsity: '${spec}': `)).toBe(true);
      expect(message).toMatch(detail);
      expect(message).not.toContain('\n');
    });
  }

  it('names the default option sparsity', () => {
    expect(() => parsePattern('uhp:4:4')).toThrow(/^sparsity: 'uhp:4:4'/);
  });
});

describe('validatePattern', () => {
  it('accepts sparsity 0 for schedules but not 1', () => {
    expect(() => validatePattern({ kind: 'unstructured', sparsity: 0, scope: 'global' })).not.toThrow();
    expect(() => validatePattern({ kind: 'channel', sparsity: 1 })).toThrow(/sparsity must be in \[0, 1\) \(got 1\)/);
    expect(() => validatePattern({ kind: 'uhp', n: 2, m: 6, block: 1 })).toThrow(/M must be one of/);
  });
});
