// Runs a TypeScript script in its own Node process (through vite-node), as the
// multi-process tests need: one process per rank.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const viteNode = path.join(root, 'node_modules', 'vite-node', 'vite-node.mjs');

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A port nobody listens on right now: the kernel picks it for a throw-away server. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `script` (c10d's own glog lines silenced, so stderr holds dst's lines only) with `args` and extra `env`; killed if it outlives `limitMs`, so a hang fails instead of stalling the suite. */
export function spawnScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number): { done: Promise<ScriptResult>; kill: (signal?: NodeJS.Signals) => void } {
  const started = Date.now();
  const child = spawn(process.execPath, [viteNode, script, ...args], { cwd: root, env: { ...process.env, GLOO_SOCKET_IFNAME: '', GLOG_minloglevel: '3', ...env }, timeout: limitMs });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<ScriptResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { done, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}
