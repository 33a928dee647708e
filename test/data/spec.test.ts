import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData, parseDataSpec } from '../../src/data/index.js';
import { resolveDataOptions } from '../../src/data/spec.js';

describe('data spec strings', () => {
  it('parses kind, path and options', () => {
    expect(parseDataSpec('mstar:../shared/data/mstar-soc')).toEqual({ kind: 'mstar', path: path.resolve('../shared/data/mstar-soc'), query: {} });
    expect(parseDataSpec('cifar100:~/data/cifar-100-binary.tar.gz?labels=coarse')).toEqual({
      kind: 'cifar100',
      path: path.join(os.homedir(), 'data/cifar-100-binary.tar.gz'),
      query: { labels: 'coarse' },
    });
    expect(parseDataSpec('synthetic')).toEqual({ kind: 'synthetic', path: undefined, query: {} });
    expect(parseDataSpec('synthetic:size=16,trainPerClass=3')).toEqual({ kind: 'synthetic', path: undefined, query: { size: '16', trainPerClass: '3' } });
  });

  it("turns the cache off with cacheDir=off or cacheDir=false, never a folder named 'false'", () => {
    for (const off of ['off', 'false']) expect(resolveDataOptions(parseDataSpec(`synthetic?cacheDir=${off}`), {}).cacheDir).toBe(false);
    expect(resolveDataOptions(parseDataSpec('synthetic?cacheDir=/tmp/c'), {}).cacheDir).toBe('/tmp/c');
  });

  it('names the problem in one line', async () => {
    expect(() => parseDataSpec('imagenet:/data')).toThrow(/^data: unknown data kind in "imagenet:\/data" \(known: cifar10, cifar100/);
    expect(() => parseDataSpec('mstar')).toThrow(/^data: mstar needs a path: mstar:<path>$/);
    await expect(openData('synthetic?size=abc')).rejects.toThrow(/^size: /);
    await expect(openData('synthetic?colour=rgb')).rejects.toThrow(/^colour: is not a data option/);
    await expect(openData('synthetic', { labels: 'coarse' })).rejects.toThrow(/^labels: is not an option of synthetic data/);
    await expect(openData('opensarship:/x?polarization=hh')).rejects.toThrow(/^polarization: /);
    await expect(openData('synthetic?size=8x9')).rejects.toThrow(/^size: synthetic chips are square/);
  });
});
