import { describe, expect, it } from 'vitest';
import { applyKeyRule, applyKeyRules, KNOWN_ALIASES, parseKeyRule } from '../../src/import/key-map.js';

describe('key renaming rules', () => {
  it('replaces whole dotted parts anywhere, or only at the start with ^', () => {
    const rule = parseKeyRule('shortcut=downsample');
    expect(applyKeyRule('layer2.0.shortcut.0.weight', rule)).toBe('layer2.0.downsample.0.weight');
    expect(applyKeyRule('my_shortcut.weight', rule)).toBe('my_shortcut.weight');
    expect(applyKeyRule('a.b.c.b.c', parseKeyRule('b.c=x'))).toBe('a.x.x');
    expect(applyKeyRule('module.encoder.module.fc', parseKeyRule('^module='))).toBe('encoder.module.fc');
    expect(applyKeyRule('head.fc.weight', parseKeyRule('head='))).toBe('fc.weight');
    expect(applyKeyRules('module.linear.bias', KNOWN_ALIASES)).toBe('fc.bias');
  });

  it('names the option and shows the expected form for a bad rule', () => {
    for (const bad of ['shortcut', '=x', 'a..b=c', 'a=b=c', 'a b=c']) {
      expect(() => parseKeyRule(bad)).toThrow(/^--key-map: expected FROM=TO or \^FROM=TO with dotted key parts/);
    }
  });
});
