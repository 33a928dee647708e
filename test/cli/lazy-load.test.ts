import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './run-cli.js';

/**
 * Runs the CLI in a child process and reports whether the LibTorch addon got
 * mapped into it: help, usage errors and `dst plot` must not pay its ~1 s load.
 */
function loadsTorch(args: readonly string[]): { code: number; torch: boolean } {
  const script = `
    import { readFileSync } from 'node:fs';
    const { main } = await import(${JSON.stringify(path.join(root, 'dist', 'cli', 'main.js'))});
    const code = await main(${JSON.stringify(['node', 'dst', ...args])});
    const maps = readFileSync('/proc/self/maps', 'utf8');
    process.stdout.write(JSON.stringify({ code, torch: maps.includes('dst_torch.node') }) + '\\n');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  expect(last.startsWith('{'), `${r.stdout}\n${r.stderr}`).toBe(true);
  return JSON.parse(last) as { code: number; torch: boolean };
}

describe.runIf(process.platform === 'linux')('CLI loads LibTorch only for commands that compute', () => {
  it('help and usage errors do not load it', () => {
    expect(loadsTorch(['--help'])).toEqual({ code: 0, torch: false });
    expect(loadsTorch(['distill', '--no-such-flag'])).toEqual({ code: 1, torch: false });
    expect(loadsTorch(['plot', path.join(root, 'no-such-run')])).toEqual({ code: 1, torch: false });
  });

  it('a command that needs it still gets it', () => {
    expect(loadsTorch(['doctor'])).toEqual({ code: 0, torch: true });
  });
});
