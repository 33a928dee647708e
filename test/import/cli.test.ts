import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTeacher } from '../../src/distill/teacher.js';
import { loadModelFile } from '../../src/train/model-file.js';
import { dst, dstOk } from '../cli/run-cli.js';
import { logitError, pth, writeTenClassFolder } from './fixture.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-import-cli-'));

describe('dst import', () => {
  it('imports a torch.save file into a run that eval, distill --teacher and export accept', async () => {
    const data = path.join(work, 'images');
    await writeTenClassFolder(data);
    const run = path.join(work, 'imported');
    const spec = `folder:${data}?cacheDir=off`;
    const out = dstOk(['import', pth, '--model', 'resnet20', '--out', run, '--data', spec, '--mean', '0.49,0.48,0.45', '--std', '0.25,0.24,0.26']);
    expect(out).toMatch(/^imported 128 tensors from .*\.pth \(pth\) as resnet20: 10 classes, input 3x32x32$/m);
    expect(out).toMatch(/renamed 14 keys/);
    expect(out).toMatch(/test top-1 \d+\.\d\d% on folder:/);

    const { model, info } = await loadModelFile(path.join(run, 'model.safetensors'));
    try {
      expect(info.classes).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9']);
      expect(info.stats).toEqual({ mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] });
      expect(await logitError(model)).toBeLessThanOrEqual(1e-5);
    } finally {
      model.dispose();
    }

    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8'));
    const evaluated = JSON.parse(dstOk(['eval', '--run', run, '--json', '--threads', '1']));
    expect(evaluated.count).toBe(10);
    expect(evaluated.top1).toBeCloseTo(summary.top1, 10);

    const teacher = await loadTeacher(run, 10);
    expect(teacher.name).toBe('resnet20');
    teacher.dispose();

    expect(dstOk(['export', '--run', run, '--out', path.join(work, 'imported.onnx'), '--format', 'onnx'])).toMatch(/ONNX opset 13/);
  });

  it('refuses an existing --out without --force and replaces it with --force', () => {
    const run = path.join(work, 'twice');
    dstOk(['import', pth, '--model', 'resnet20', '--out', run]);
    const again = dst(['import', pth, '--model', 'resnet20', '--out', run]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`dst: error: --out: ${run} already exists; choose another --out or pass --force to replace it\n`);
    dstOk(['import', pth, '--model', 'resnet20', '--out', run, '--force', '--classes', 'a,b,c,d,e,f,g,h,i,j']);
    expect(JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8')).data.classes[0]).toBe('a');
    // Imported without --data, the run records no data: eval asks for it.
    expect(dst(['eval', '--run', run])).toMatchObject({ code: 1, stderr: 'dst: error: data: no data spec given: pass one such as --data folder:<dir>\n' });
  });

  it('names a file that is neither a torch.save zip nor safetensors', () => {
    const file = path.join(work, 'notes.pth');
    writeFileSync(file, 'not weights');
    expect(dst(['import', file, '--model', 'resnet20', '--out', path.join(work, 'notes')])).toMatchObject({ code: 1, stderr: `dst: error: ${file}: is neither a torch.save file (a zip) nor a safetensors file\n` });
  });

  it('reports a key mismatch on one line with exit code 1', () => {
    const r = dst(['import', pth, '--model', 'resnet32', '--out', path.join(work, 'wrong')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^dst: error: .*\.pth does not fit resnet32: missing layer1\.3\.conv1\.weight \[16, 16, 3, 3\] \(and 59 more\)\n$/);
    const bad = dst(['import', pth, '--model', 'resnet20', '--out', path.join(work, 'wrong'), '--key-map', 'shortcut']);
    expect(bad.stderr).toMatch(/^dst: error: --key-map: expected FROM=TO or \^FROM=TO/);
  });
});
