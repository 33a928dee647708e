import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTeacher } from '../../src/distill/teacher.js';
import { createModel } from '../../src/models/registry.js';
import { saveSafetensors } from '../../src/nn/safetensors.js';
import { tensor, type Tensor } from '../../src/torch/tensor.js';

describe('loadTeacher', () => {
  it('refuses a teacher with NaN weights, naming the file and the tensor', async () => {
    const model = createModel('resnet8x4', { numClasses: 10, inChannels: 1 });
    const state = new Map<string, Tensor>(model.stateDict());
    const [key, weight] = [...state].find(([k, t]) => k.endsWith('.weight') && t.rank === 4)!;
    const broken = tensor(new Float32Array(weight.shape.reduce((a, b) => a * b, 1)).fill(NaN), [...weight.shape]);
    state.set(key, broken);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'dst-teacher-')), 'teacher.safetensors');
    await saveSafetensors(file, state);
    broken.dispose();
    model.dispose();
    await expect(loadTeacher(file, 10, 'resnet8x4')).rejects.toThrow(`${file}: tensor ${key} holds NaN or infinite values: the teacher diverged`);
  });
});
