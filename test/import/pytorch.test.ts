import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fitStateDict } from '../../src/import/fit.js';
import { readStateDict } from '../../src/import/state-dict.js';
import { importRun } from '../../src/import/run.js';
import { readSafetensors } from '../../src/nn/safetensors.js';
import { loadModelFile } from '../../src/train/model-file.js';
import type { Module } from '../../src/nn/module.js';
import { noGrad, tensor } from '../../src/torch/tensor.js';
import { tidy } from '../../src/torch/scope.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'pytorch');
export const pth = path.join(fixtures, 'resnet20_cifar_shortcut_linear.pth');
const io = path.join(fixtures, 'resnet20_cifar_io.safetensors');

/** Largest absolute difference between the model's logits and PyTorch's on the fixture input. */
export async function logitError(model: Module): Promise<number> {
  const { tensors } = await readSafetensors(io);
  const input = tensors.get('input')!;
  const want = tensors.get('logits')!.data as Float32Array;
  const got = noGrad(() => tidy(() => model.eval().forward(tensor(input.data, input.shape)).data() as Float32Array));
  expect(got.length).toBe(want.length);
  return want.reduce((max, w, i) => Math.max(max, Math.abs(w - got[i]!)), 0);
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
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dst-import-')), 'run');
    const result = await importRun(pth, out, { model: 'resnet20' });
    expect(result.top1).toBeNull();
    const { model, info } = await loadModelFile(path.join(out, 'model.safetensors'));
    try {
      expect(info.classes).toHaveLength(10);
      expect(info.input).toEqual([3, 32, 32]);
      expect(await logitError(model)).toBeLessThanOrEqual(1e-5);
    } finally {
      model.dispose();
    }
  });
});
