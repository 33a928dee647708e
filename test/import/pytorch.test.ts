import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitStateDict } from '../../src/import/fit.js';
import { readStateDict } from '../../src/import/state-dict.js';
import { importRun } from '../../src/import/run.js';
import { encodeSafetensors, type RawTensor } from '../../src/nn/safetensors.js';
import { loadModelFile } from '../../src/train/model-file.js';
import { writeFile } from '../data/formats.js';
import { logitError, pth } from './fixture.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-import-'));

/** Writes the fixture's tensors to a safetensors file under new names. */
async function renamedCopy(name: string, rename: (key: string) => string): Promise<string> {
  const { tensors } = await readStateDict(pth);
  const file = path.join(work, name);
  await writeFile(file, encodeSafetensors(new Map<string, RawTensor>([...tensors].map(([k, t]) => [rename(k), t]))));
  return file;
}

describe('PyTorch state dicts', () => {
  it('reads a torch.save file and reproduces PyTorch logits', async () => {
    const source = await readStateDict(pth);
    expect(source.format).toBe('pth');
    expect(source.tensors.size).toBe(128);
    expect(source.tensors.get('conv1.weight')!.shape).toEqual([16, 3, 3, 3]);
    expect(source.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('int64');
    const fitted = fitStateDict(source.tensors, 'resnet20', [], pth);
    try {
      expect(fitted.numClasses).toBe(10);
      expect(fitted.renamed).toContainEqual(['linear.weight', 'fc.weight']);
      expect(fitted.renamed).toContainEqual(['layer2.0.shortcut.0.weight', 'layer2.0.downsample.0.weight']);
      const error = await logitError(fitted.model);
      console.log(`max |logit - PyTorch| = ${error.toExponential(2)}`);
      expect(error).toBeLessThanOrEqual(1e-5);
    } finally {
      fitted.model.dispose();
    }
  });

  it('writes a run whose model file gives the same logits', async () => {
    const out = path.join(work, 'run');
    const result = await importRun(pth, out, { model: 'resnet20', classes: 'abcdefghij'.split('') });
    expect(result.top1).toBeNull();
    expect(readdir(out)).toEqual(['model.safetensors', 'recipe.yaml', 'summary.json']);
    const { model, info } = await loadModelFile(path.join(out, 'model.safetensors'));
    try {
      expect(info.classes).toEqual('abcdefghij'.split(''));
      expect(info.input).toEqual([3, 32, 32]);
      expect(await logitError(model)).toBeLessThanOrEqual(1e-5);
    } finally {
      model.dispose();
    }
  });

  it('imports the same weights from safetensors', async () => {
    const file = await renamedCopy('same.safetensors', (k) => k);
    const source = await readStateDict(file);
    expect(source.format).toBe('safetensors');
    const fitted = fitStateDict(source.tensors, 'resnet20', [], file);
    try {
      expect(await logitError(fitted.model)).toBeLessThanOrEqual(1e-5);
    } finally {
      fitted.model.dispose();
    }
  });

  it('renames keys by --key-map rules, and strips DataParallel prefixes unasked', async () => {
    const file = await renamedCopy('renamed.safetensors', (k) => `module.${k.replace('.shortcut.', '.proj.').replace(/^linear\./, 'head.')}`);
    const { tensors } = await readStateDict(file);
    const { parseKeyRule } = await import('../../src/import/key-map.js');
    expect(() => fitStateDict(tensors, 'resnet20', [], file)).toThrow(/missing layer2\.0\.downsample\.0\.weight \[32, 16, 1, 1\] \(and 11 more\); unexpected module\.layer2\.0\.proj\.0\.weight \(as layer2\.0\.proj\.0\.weight\) \[32, 16, 1, 1\] \(and 13 more\)$/);
    const fitted = fitStateDict(tensors, 'resnet20', ['proj=downsample', 'head=fc'].map((r) => parseKeyRule(r)), file);
    try {
      expect(await logitError(fitted.model)).toBeLessThanOrEqual(1e-5);
    } finally {
      fitted.model.dispose();
    }
  });

  it('lists the first missing and unexpected keys with their shapes', async () => {
    const file = await renamedCopy('mismatch.safetensors', (k) => k.replace('layer3.2.bn2', 'layer3.2.norm2'));
    await expect(importRun(file, path.join(work, 'never'), { model: 'resnet20' })).rejects.toThrow(
      /does not fit resnet20: missing layer3\.2\.bn2\.weight \[64\] \(and 3 more\); unexpected layer3\.2\.norm2\.weight \[64\] \(and 4 more\)$/,
    );
    expect(existsSync(path.join(work, 'never'))).toBe(false);
    expect(readdir(work).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a class list or normalisation that does not fit the weights', async () => {
    await expect(importRun(pth, path.join(work, 'never'), { model: 'resnet20', classes: ['a', 'b'] })).rejects.toThrow(/--classes: names 2 classes, the weights predict 10/);
    await expect(importRun(pth, path.join(work, 'never'), { model: 'resnet20', mean: [0.5], std: [0.5] })).rejects.toThrow(/--mean: gives 1 values, the model takes 3 input channels/);
    expect(existsSync(path.join(work, 'never'))).toBe(false);
  });

  it('records the import in recipe.yaml and summary.json', () => {
    const recipe = readFileSync(path.join(work, 'run', 'recipe.yaml'), 'utf8');
    expect(recipe).toMatch(/model: resnet20/);
    expect(recipe).toMatch(/format: pth/);
    const summary = JSON.parse(readFileSync(path.join(work, 'run', 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ model: 'resnet20', method: 'import', pattern: 'dense', top1: null, epochs: 0 });
    expect(summary.params).toBeGreaterThan(0.26e6);
  });
});

function readdir(dir: string): string[] {
  return readdirSync(dir).sort();
}
