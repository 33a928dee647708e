/** File-system helpers shared by the readers: existence checks with one-line errors, sorted listings. */
import { type Dirent, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DstError, FormatError } from '../errors.js';

export type PathKind = 'file' | 'dir';

/** Throws E_NOT_FOUND naming the path when it is missing, or E_FORMAT when it is the wrong kind. */
export async function requirePath(p: string, what: string): Promise<PathKind> {
  let stat;
  try {
    stat = await fs.stat(p);
  } catch {
    throw new DstError('E_NOT_FOUND', `${p}: ${what} not found`);
  }
  return stat.isDirectory() ? 'dir' : 'file';
}

export async function requireDir(p: string, what: string): Promise<void> {
  if ((await requirePath(p, what)) !== 'dir') throw new FormatError(p, `${what} must be a folder`);
}

async function entries(dir: string): Promise<Dirent[]> {
  const list = await fs.readdir(dir, { withFileTypes: true });
  return list.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function subfolders(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Every file below `dir` (hidden ones skipped), in a stable sorted order. */
export async function listFilesDeep(dir: string, keep: (name: string) => boolean = () => true): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await entries(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFilesDeep(full, keep)));
    else if (entry.isFile() && keep(entry.name)) out.push(full);
  }
  return out;
}

/** The child of `dir` named `name`, matched without regard to case (TRAIN/, Train/, train/). */
export async function findChild(dir: string, name: string): Promise<string | undefined> {
  const match = (await entries(dir)).find((e) => e.isDirectory() && e.name.toLowerCase() === name);
  return match && path.join(dir, match.name);
}

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.tif', '.tiff'];

export function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}
