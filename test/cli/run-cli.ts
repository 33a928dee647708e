import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'bin', 'dst.js');
const env = { ...process.env, CI: '1' };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`npm run build` first) as a user would, in `cwd`. */
export function dst(args: readonly string[], cwd = root): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * As `dst`, without blocking the test worker's event loop: for runs long
 * enough that vitest's worker would otherwise miss its own heartbeats.
 */
export function dstAsync(args: readonly string[], cwd = root): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the CLI, expects success (stderr shown otherwise) and returns its stdout. */
export function dstOk(args: readonly string[]): string {
  const r = dst(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** dstOk without blocking the test worker: for trainings, which would starve vitest's RPC under load. */
export async function dstOkAsync(args: readonly string[]): Promise<string> {
  const r = await dstAsync(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}
