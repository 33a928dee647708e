import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, dst, dstAsync } from './run-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'dst-run-folder-'));
const common = ['--model', 'resnet8x4', '--data', 'synthetic:size=16,trainPerClass=4,testPerClass=2', '--batch-size', '20', '--threads', '1', '--workers', '0'];

/** Starts a long training and resolves once its first epoch is checkpointed. */
function startTraining(out: string): Promise<{ pid: number; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'dst.js'), 'train', ...common, '--epochs', '10000', '--out', out], { env: { ...process.env, CI: '1' } });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (/epoch 1\/10000 /.test(stderr)) resolve({ pid: child.pid!, stderr: () => stderr, exited });
    });
    exited.then(() => reject(new Error(`training ended early: ${stderr}`)));
  });
}

describe('run folder', () => {
  it('is held by one process: a second one is refused, Ctrl-C says where the checkpoint is and frees the folder', async () => {
    const out = path.join(work, 'held');
    const first = await startTraining(out);
    for (const flag of ['--force', '--resume']) {
      const second = await dstAsync(['train', ...common, '--epochs', '2', '--out', out, flag]);
      expect(second.code, flag).toBe(1);
      expect(second.stderr).toBe(`dst: error: ${out} is in use by dst process ${first.pid}; wait for it to end or choose another folder\n`);
    }
    process.kill(first.pid, 'SIGINT');
    expect(await first.exited).toBe(130);
    const last = first.stderr().trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^dst: interrupted; the last checkpoint is ${out}/checkpoints/last\\.safetensors \\(after epoch \\d+\\); the epoch in progress is lost; continue with: dst train .* --out ${out} --resume$`));
    expect(existsSync(path.join(out, '.dst-lock'))).toBe(false);
    expect(existsSync(path.join(out, 'checkpoints', 'last.safetensors'))).toBe(true);
  });

  it('takes over the lock of a process that died', () => {
    const out = path.join(work, 'stale');
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const r0 = dst(['train', ...common, '--epochs', '1', '--out', out]);
    expect(r0.code, r0.stderr).toBe(0);
    writeFileSync(path.join(out, '.dst-lock'), dead.stdout);
    const r = dst(['train', ...common, '--epochs', '1', '--out', out, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(out, '.dst-lock'))).toBe(false);
    expect(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
