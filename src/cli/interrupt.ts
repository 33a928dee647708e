import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { checkpointEpoch } from '../train/checkpoint-epoch.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

function onSignal(signal: keyof typeof EXIT_CODES, note: () => string): void {
  // On a terminal the live progress line has no line break yet.
  const lead = process.stderr.isTTY ? '\n' : '';
  process.stderr.write(`${lead}dst: interrupted; ${note()}\n`);
  // Exit listeners release the run folders' locks.
  process.exit(EXIT_CODES[signal]);
}

/**
 * Until the returned function is called, Ctrl-C (or SIGTERM) ends the
 * command with one line from `note`: what was kept and how to go on.
 */
export function explainInterrupt(note: () => string): () => void {
  const handlers = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((signal) => [signal, () => onSignal(signal, note)] as const);
  for (const [signal, handler] of handlers) process.once(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** This command line as `dst ...`, with `drop` removed and `add` appended when missing. */
export function commandLine(drop: readonly string[], add: readonly string[] = []): string {
  // A worker of `--nproc` quotes its launcher's command line, which it was given, not its own.
  const launched = process.env.DST_LAUNCH_ARGS;
  const args = (launched ? (JSON.parse(launched) as string[]) : process.argv.slice(2)).filter((a) => !drop.includes(a));
  for (const a of add) if (!args.includes(a)) args.push(a);
  return ['dst', ...args].map(quote).join(' ');
}

/**
 * For `dst train` and `dst distill`: where the last checkpoint is and the
 * command that resumes from it. A checkpoint is written only at the end of an
 * epoch: it cannot hold the loader's place or the random state within one, so
 * the epoch in progress is lost rather than resumed inexactly.
 */
export function trainingInterruptNote(out: string): string {
  const checkpoint = [path.join(out, 'checkpoints', 'last.safetensors'), path.join(out, 'dense', 'checkpoints', 'last.safetensors')].find((f) => existsSync(f));
  if (checkpoint === undefined) return `no epoch had finished, so there is no checkpoint; start again with: ${commandLine(['--resume'])}`;
  const epoch = checkpointEpoch(checkpoint);
  return `the last checkpoint is ${checkpoint}${epoch === undefined ? '' : ` (after epoch ${epoch})`}; the epoch in progress is lost; continue with: ${commandLine(['--force'], ['--resume'])}`;
}

/** For `dst pipeline` and `dst demo`: finished stages stay, the others resume from their checkpoints on the next call. */
export function pipelineInterruptNote(out: string): string {
  return `finished stages in ${out} are kept and the others resume from their last end-of-epoch checkpoints (the epoch in progress is lost); continue with: ${commandLine(['--force'])}`;
}
