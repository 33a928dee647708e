/**
 * Renaming state-dict keys from other code bases to dst's. A rule `FROM=TO`
 * replaces FROM wherever it occurs as whole dot-separated parts of a key
 * (`shortcut=downsample` turns `layer2.0.shortcut.0.weight` into
 * `layer2.0.downsample.0.weight` but leaves `my_shortcut.weight` alone);
 * `^FROM=TO` only at the key's start. An empty TO removes the parts, so
 * `^module=` strips the prefix DataParallel adds.
 */
import { ConfigError } from '../errors.js';

export interface KeyRule {
  from: string[];
  to: string[];
  anchored: boolean;
  /** The rule as written, for messages and the run record. */
  text: string;
}

const PART = /^[^.=^\s]+(\.[^.=^\s]+)*$/;

export function parseKeyRule(text: string, option = '--key-map'): KeyRule {
  const eq = text.indexOf('=');
  const anchored = text.startsWith('^');
  const from = text.slice(anchored ? 1 : 0, eq);
  const to = text.slice(eq + 1);
  if (eq < 0 || !PART.test(from) || (to !== '' && !PART.test(to))) {
    throw new ConfigError(option, `expected FROM=TO or ^FROM=TO with dotted key parts (e.g. shortcut=downsample, ^module=), got '${text}'`);
  }
  return { from: from.split('.'), to: to === '' ? [] : to.split('.'), anchored, text };
}

export function applyKeyRule(key: string, rule: KeyRule): string {
  const parts = key.split('.');
  const out: string[] = [];
  for (let i = 0; i < parts.length; ) {
    const matches = (!rule.anchored || i === 0) && rule.from.every((p, j) => parts[i + j] === p);
    if (matches) {
      out.push(...rule.to);
      i += rule.from.length;
    } else out.push(parts[i++]!);
  }
  return out.join('.');
}

export function applyKeyRules(key: string, rules: readonly KeyRule[]): string {
  return rules.reduce((k, rule) => applyKeyRule(k, rule), key);
}

/**
 * Names other widely used code bases give the layers of the same networks:
 * DataParallel's `module.` prefix, and the CIFAR ResNets that call the
 * option-B shortcut `shortcut` and the classifier `linear` (dst, like
 * RepDistiller, says `downsample` and `fc`). They apply only to keys that do
 * not already fit the model.
 */
export const KNOWN_ALIASES: readonly KeyRule[] = ['^module=', 'shortcut=downsample', 'linear=fc'].map((t) => parseKeyRule(t));
