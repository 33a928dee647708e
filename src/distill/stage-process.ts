/**
 * One pipeline stage in its own `dst` process. LibTorch's compute runs on the
 * calling thread, so stages that train at the same time need processes of
 * their own; each gets its share of the intra-op threads.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { DstError } from '../errors.js';
import type { PipelineStage } from './stages.js';

const cli = fileURLToPath(new URL('../../bin/dst.js', import.meta.url));

export interface StageProcessOptions {
  threads: number;
  /** Retrain from scratch instead of resuming. */
  force: boolean;
  signal: AbortSignal;
  /** Each progress line the stage writes to stderr, without the line break. */
  onLine: (line: string) => void;
}

export async function runStageProcess(stage: PipelineStage, options: StageProcessOptions): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), `dst-stage-${stage.name.replace(/\//g, '-')}-`));
  try {
    const recipeFile = path.join(dir, 'recipe.yaml');
    writeFileSync(recipeFile, YAML.stringify({ ...stage.recipe, threads: options.threads }));
    const args = [cli, stage.command, '--config', recipeFile, '--out', stage.dir, options.force ? '--force' : '--resume'];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: options.signal, killSignal: 'SIGTERM' });
      let partial = '';
      let errorLine = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const raw of lines) {
          // A terminal-style live line keeps only its last state.
          const line = raw.slice(raw.lastIndexOf('\r') + 1).trimEnd();
          if (line === '') continue;
          // The stage's error line reaches the user once, as the pipeline's own.
          if (line.startsWith('dst: ')) errorLine = line;
          else options.onLine(line);
        }
      });
      child.on('error', (err) => {
        if (options.signal.aborted) reject(new DstError('E_STAGE', `${stage.name}: stopped because another stage failed`));
        else reject(new DstError('E_STAGE', `${stage.name}: cannot start dst: ${err.message}`));
      });
      child.on('close', (code) => {
        if (code === 0) resolve();
        else if (options.signal.aborted) reject(new DstError('E_STAGE', `${stage.name}: stopped because another stage failed`));
        else reject(new DstError('E_STAGE', `stage ${stage.name} failed: ${errorLine.replace(/^dst: (?:internal )?error: /, '') || `exit code ${code}`}`));
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
