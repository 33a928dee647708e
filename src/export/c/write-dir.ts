/**
 * Writes a folder of files so a reader never sees half of it: everything
 * goes into a temp folder beside the target, which is then renamed into
 * place. An existing target is replaced only when it is an earlier C export
 * (or empty), never a folder of the user's own files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../errors.js';
import { MARKER } from './emit-model.js';

async function replaceable(dir: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new ConfigError('out', `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (entries.length === 0) return true;
  try {
    return (await fs.readFile(path.join(dir, 'model.h'), 'utf8')).includes(MARKER);
  } catch {
    return false;
  }
}

export async function writeDirAtomic(dir: string, files: Map<string, string>): Promise<void> {
  const target = path.resolve(dir);
  if (!(await replaceable(target))) {
    throw new ConfigError('out', `${dir} exists and is not an earlier C export; refusing to overwrite it`);
  }
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = `${target}.tmp-${stamp}`;
  const old = `${target}.old-${stamp}`;
  await fs.mkdir(path.dirname(target), { recursive: true });
  try {
    for (const [rel, text] of files) {
      const file = path.join(tmp, rel);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, text);
    }
    let hadOld = true;
    try {
      await fs.rename(target, old);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      hadOld = false;
    }
    try {
      await fs.rename(tmp, target);
    } catch (err) {
      if (hadOld) await fs.rename(old, target);
      throw err;
    }
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
