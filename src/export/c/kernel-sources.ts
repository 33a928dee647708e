/**
 * Reads the engine's kernel files from this package's native/engine at
 * export time, so the generated project carries the same code the engine
 * runs: one source of truth, no fork.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DstError } from '../../errors.js';

/** A folder of this package's native/ (src/export/c and dist/export/c are both three levels below the root). */
export function nativeDir(name: string): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'native', name);
}

export function engineDir(): string {
  return nativeDir('engine');
}

const INCLUDE = /^\s*#\s*include\s+"([^"]+)"/gm;

/** The files and every header they include with quotes, transitively, keyed by path relative to the engine folder. */
export async function readKernelSources(files: string[], root = engineDir()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const queue = [...files];
  while (queue.length > 0) {
    const rel = queue.shift() as string;
    if (out.has(rel)) continue;
    let text: string;
    try {
      text = await fs.readFile(path.join(root, rel), 'utf8');
    } catch (err) {
      throw new DstError('E_NATIVE', `cannot read engine source ${path.join(root, rel)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    out.set(rel, text);
    for (const m of text.matchAll(INCLUDE)) {
      const dep = path.posix.normalize(path.posix.join(path.posix.dirname(rel), m[1]));
      if (dep.startsWith('..')) throw new DstError('E_NATIVE', `engine source ${rel} includes ${m[1]}, outside native/engine`);
      queue.push(dep);
    }
  }
  return out;
}
