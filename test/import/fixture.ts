/** The PyTorch fixture (a ResNet-20 state dict and PyTorch's logits on an input) and helpers around it. */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Module } from '../../src/nn/module.js';
import { readSafetensors } from '../../src/nn/safetensors.js';
import { tidy } from '../../src/torch/scope.js';
import { noGrad, tensor } from '../../src/torch/tensor.js';
import { encodeImage, writeFile } from '../data/formats.js';

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

/** A train/test image-folder tree of 10 classes of 32x32 RGB PNGs, one image per class and split. */
export async function writeTenClassFolder(root: string): Promise<void> {
  for (const split of ['train', 'test']) {
    for (let c = 0; c < 10; c++) {
      const pixels = new Uint8Array(3 * 32 * 32).map((_, i) => (i * 7 + c * 31 + (split === 'test' ? 5 : 0)) & 0xff);
      await writeFile(path.join(root, split, `c${c}`, 'a.png'), await encodeImage(pixels, 3, 32, 32, 'png'));
    }
  }
}
