import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dst } from './run-cli.js';

describe('--threads', () => {
  it('above the core count trains, with one warning line', () => {
    const threads = availableParallelism() + 1;
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'dst-threads-')), 'run');
    const r = dst(['train', '--model', 'resnet8x4', '--data', 'synthetic:size=16,trainPerClass=4,testPerClass=2', '--batch-size', '20', '--workers', '0', '--epochs', '1', '--threads', String(threads), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toEqual([`dst: warning: --threads ${threads} is more than the ${availableParallelism()} cores of this machine; the extra threads only compete for them`]);
  });
});
