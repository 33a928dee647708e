/**
 * Data spec strings (`--data kind[:path][?key=value&...]`) and the options
 * they carry, validated with zod; errors name the offending key.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { FOLDER_LAYOUTS, TEST_SPLITS } from './folder-layout.js';

export const DATA_KINDS = ['cifar10', 'cifar100', 'folder', 'mstar', 'fusar', 'opensarship', 'synthetic'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

export interface DataSpec {
  kind: DataKind;
  /** Absolute path (a leading ~ is the home folder); undefined for synthetic. */
  path: string | undefined;
  /** `?key=value` options of the spec (for synthetic also `synthetic:key=value,...`), still as text. */
  query: Record<string, string>;
}

const sizeOption = z.union([
  z.number().int().positive(),
  z.tuple([z.number().int().positive(), z.number().int().positive()]),
]);

/** Every option a spec or a recipe may set; which kinds accept which is in KIND_OPTIONS. */
export const dataOptionsSchema = z
  .object({
    cacheDir: z.union([z.string().min(1), z.literal(false)]),
    seed: z.number().int().nonnegative(),
    labels: z.enum(['fine', 'coarse']),
    color: z.enum(['auto', 'gray', 'rgb']),
    size: sizeOption,
    fit: z.enum(['center', 'resize']),
    classes: z.array(z.string().min(1)).nonempty(),
    testFraction: z.number().gt(0).lt(1),
    polarization: z.enum(['vv', 'vh', 'both']),
    shipClasses: z.enum(['three', 'all']),
    amplitude: z.enum(['linear', 'log']),
    classFrom: z.enum(['header', 'folder']),
    trainPerClass: z.number().int().positive(),
    testPerClass: z.number().int().positive(),
    layout: z.enum(FOLDER_LAYOUTS),
    testSplit: z.enum(TEST_SPLITS),
    trainList: z.string().min(1),
    testList: z.string().min(1),
    classNames: z.string().min(1),
    imageRoot: z.string().min(1),
  })
  .partial()
  .strict();

export type DataOptionValues = z.infer<typeof dataOptionsSchema>;

const GENERAL_OPTIONS = ['cacheDir', 'seed'];

export const KIND_OPTIONS: Record<DataKind, readonly string[]> = {
  cifar10: [],
  cifar100: ['labels'],
  folder: ['color', 'size', 'fit', 'layout', 'testSplit', 'testFraction', 'trainList', 'testList', 'classNames', 'imageRoot'],
  mstar: ['size', 'amplitude', 'classFrom'],
  fusar: ['classes', 'size', 'fit', 'color', 'testFraction'],
  opensarship: ['polarization', 'shipClasses', 'size', 'fit', 'testFraction'],
  synthetic: ['size', 'trainPerClass', 'testPerClass'],
};

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function parseQuery(text: string, separators: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(separators).filter((s) => s.length > 0)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError('data', `option "${pair}" is not key=value`);
    out[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
  }
  return out;
}

export function parseDataSpec(spec: string): DataSpec {
  // Specs also come from recipe files and run records, where the key may be missing.
  if (typeof spec !== 'string') throw new ConfigError('data', 'no data spec given: pass one such as --data folder:<dir>');
  const match = /^([a-z0-9]+)(?::(.*)|(\?.*))?$/s.exec(spec.trim());
  const kind = match?.[1];
  if (!match || !DATA_KINDS.includes(kind as DataKind)) {
    throw new ConfigError('data', `unknown data kind in "${spec}" (known: ${DATA_KINDS.join(', ')})`);
  }
  let rest = match[2] ?? match[3] ?? '';
  let query: Record<string, string> = {};
  const q = rest.lastIndexOf('?');
  if (q >= 0 && /^[^=&?]+=[^&]*(&[^=&?]+=[^&]*)*$/.test(rest.slice(q + 1))) {
    query = parseQuery(rest.slice(q + 1), /&/);
    rest = rest.slice(0, q);
  }
  if (kind === 'synthetic') {
    return { kind, path: undefined, query: { ...parseQuery(rest, /[,&]/), ...query } };
  }
  if (rest === '') throw new ConfigError('data', `${kind} needs a path: ${kind}:<path>`);
  return { kind: kind as DataKind, path: path.resolve(expandHome(rest)), query };
}

const NUMERIC = new Set(['seed', 'testFraction', 'trainPerClass', 'testPerClass']);

/** Turns spec text values into typed values before validation (numbers, lists, HxW sizes). */
function fromText(key: string, value: string): unknown {
  if (NUMERIC.has(key)) return value.trim() === '' ? value : Number(value);
  if (key === 'size') {
    const parts = value.split('x').map((s) => (s.trim() === '' ? NaN : Number(s)));
    return parts.length === 2 ? parts : parts[0];
  }
  if (key === 'classes') return value.split(',').map((s) => s.trim());
  // 'false' as YAML's false: a cache folder named false is never what was meant
  if (key === 'cacheDir' && (value === 'off' || value === 'false')) return false;
  return value;
}

/**
 * Merges the spec's query over the options object, validates both, and
 * rejects options the kind does not use.
 */
export function resolveDataOptions(spec: DataSpec, options: Record<string, unknown>): DataOptionValues {
  const fromSpec = Object.fromEntries(Object.entries(spec.query).map(([k, v]) => [k, fromText(k, v)]));
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const merged: Record<string, unknown> = { ...given, ...fromSpec };
  const result = dataOptionsSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(issue.keys[0]!, `is not a data option (known: ${Object.keys(dataOptionsSchema.shape).join(', ')})`);
    }
    throw new ConfigError(issue.path.map(String).join('.') || 'data', issue.message);
  }
  const allowed = [...GENERAL_OPTIONS, ...KIND_OPTIONS[spec.kind]];
  for (const key of Object.keys(result.data)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(key, `is not an option of ${spec.kind} data (it takes: ${allowed.join(', ')})`);
    }
  }
  return result.data;
}
