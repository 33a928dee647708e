import { existsSync, mkdirSync, mkdtempSync, promises as fsp, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ArrayDataset } from '../../src/data/dataset.js';
import { fromSystemError } from '../../src/errors.js';
import { checkLabels } from '../../src/train/label-check.js';
import { dst } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-os-errors-'));
const train = ['train', '--model', 'resnet8x4', '--data', 'synthetic:size=16,trainPerClass=4,testPerClass=2', '--batch-size', '20', '--threads', '1', '--workers', '0', '--epochs', '1'];

/** Runs the CLI in this process (so fs can be faked) and returns its exit code and stderr. */
async function dstHere(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['node', 'dst', ...args]), stderr };
  } finally {
    write.mockRestore();
  }
}

function diskFull(): void {
  // As Node reports it for a write: no path.
  vi.spyOn(fsp, 'writeFile').mockRejectedValue(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('operating-system errors', () => {
  it('a full disk during training is one line naming the run folder, exit 1, and no folder left behind', async () => {
    const out = path.join(work, 'full');
    diskFull();
    const r = await dstHere([...train, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`dst: error: ${out}: no space left on the device; free some space (or choose a folder on another disk) and run the command again`);
    expect(existsSync(out)).toBe(false);
  });

  it('a full disk during an export names the file being written and leaves nothing', async () => {
    const run = path.join(work, 'to-export');
    expect((await dstHere([...train, '--out', run])).code).toBe(0);
    for (const format of ['uhp', 'onnx']) {
      const file = path.join(work, 'exports', `model.${format}`);
      diskFull();
      const r = await dstHere(['export', '--run', run, '--format', format, '--out', file]);
      expect(r.code, format).toBe(1);
      expect(r.stderr).toBe(`dst: error: ${file}: no space left on the device; free some space (or choose a folder on another disk) and run the command again\n`);
      expect(readdirSync(path.dirname(file))).toEqual([]);
      vi.restoreAllMocks();
    }
  });

  it('a path Node names wins over the output, and a temporary name is reported as its file', () => {
    const err = Object.assign(new Error('EROFS'), { code: 'EROFS', path: '/mnt/ro/run/recipe.yaml.tmp-12-345' });
    expect(fromSystemError(err, '/mnt/ro/run')?.message).toBe('/mnt/ro/run/recipe.yaml: the file system is read-only; choose a folder on a writable disk');
    expect(fromSystemError(new Error('boom'), 'x')).toBeUndefined();
  });

  it('an --out that cannot be a run folder is one line and touches nothing', () => {
    const file = path.join(work, 'a-file');
    writeFileSync(file, 'keep me');
    const notRun = path.join(work, 'photos');
    mkdirSync(notRun);
    writeFileSync(path.join(notRun, 'holiday.jpg'), '');
    const cases: [string, RegExp][] = [
      [file, /^dst: error: --out: .*a-file is a file, not a run folder; choose another --out\n$/],
      [notRun, /^dst: error: --out: .*photos holds files that are not a dst run \(holiday\.jpg\); choose a new or empty folder\n$/],
      ['/sys/dst-run', /^dst: error: \/sys\/dst-run: operation not permitted; choose a folder you may write to/],
    ];
    for (const [out, message] of cases) {
      const r = dst([...train, '--out', out]);
      expect(r.code, out).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    expect(readdirSync(notRun)).toEqual(['holiday.jpg']);
  });

  it('dst info on a damaged summary.json names the file and the key', () => {
    const run = path.join(work, 'damaged');
    mkdirSync(run);
    for (const [content, message] of [
      ['{"name": "x"}', /^dst: error: .*damaged\/summary\.json: model: .*; the file is damaged/],
      ['{"name": ', /^dst: error: .*damaged\/summary\.json: not valid JSON/],
    ] as const) {
      writeFileSync(path.join(run, 'summary.json'), content);
      const r = dst(['info', run]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('labels outside the classes (a damaged image cache) are refused before training', () => {
    const split = new ArrayDataset('test', ['a', 'b'], 1, 1, 1, new Uint8Array(2), new Int32Array([1, 99]));
    expect(() => checkLabels('folder:/data/x', [split])).toThrow(/^folder:\/data\/x: the test split holds label 99 but has 2 classes; .*delete that cache/);
  });
});
