/**
 * Caffe/PyTorch-style list files: one `path label` per line (the label a
 * non-negative integer after the last run of whitespace, so paths may hold
 * spaces), paths relative to an image root. Blank lines and lines starting
 * with `#` are skipped. An optional class-names file gives label i's name on
 * its line i+1.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DstError, FormatError } from '../errors.js';
import type { ImageFile } from './image-set.js';

async function readText(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DstError('E_NOT_FOUND', `${file}: ${what} not found`);
    throw new FormatError(file, `cannot read: ${(err as Error).message}`);
  }
}

/** Lines with their 1-based numbers, without blanks and comments. */
function contentLines(text: string): { line: number; text: string }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

export interface ListedImage extends ImageFile {
  /** 1-based line of the list file, for messages. */
  line: number;
}

/** Files are checked this many at a time: lists of a million images are common. */
const STAT_BATCH = 256;

/** Reads a list file; every image must exist under `imageRoot`. Errors name file:line. */
export async function readListFile(file: string, imageRoot: string): Promise<ListedImage[]> {
  const entries: (ListedImage & { relative: string })[] = [];
  for (const { line, text } of contentLines(await readText(file, 'list file'))) {
    const where = `${file}:${line}`;
    const match = /^(.*\S)\s+(\S+)$/.exec(text);
    if (!match) throw new FormatError(where, `expected 'path label', got '${text}'`);
    const relative = match[1]!;
    const label = match[2]!;
    if (!/^\d+$/.test(label) || !Number.isSafeInteger(Number(label))) throw new FormatError(where, `label '${label}' is not a non-negative integer`);
    entries.push({ path: path.resolve(imageRoot, relative), label: Number(label), line, relative });
  }
  if (entries.length === 0) throw new FormatError(file, 'lists no images');
  for (let start = 0; start < entries.length; start += STAT_BATCH) {
    const batch = entries.slice(start, start + STAT_BATCH);
    const found = await Promise.all(batch.map((e) => fs.stat(e.path).then((s) => s.isFile(), () => false)));
    const missing = batch.find((_, i) => !found[i]);
    if (missing) throw new FormatError(`${file}:${missing.line}`, `image '${missing.relative}' not found (looked for ${missing.path})`);
  }
  return entries.map(({ path: p, label, line }) => ({ path: p, label, line }));
}

/** One class name per line, in label order. */
export async function readClassNames(file: string): Promise<string[]> {
  const names = contentLines(await readText(file, 'class-names file'));
  if (names.length === 0) throw new FormatError(file, 'names no classes');
  const seen = new Map<string, number>();
  for (const { line, text } of names) {
    const first = seen.get(text);
    if (first !== undefined) throw new FormatError(`${file}:${line}`, `class '${text}' is already named on line ${first}`);
    seen.set(text, line);
  }
  return names.map((n) => n.text);
}

/** Checks every label against the class list; errors name file:line of the first bad label. */
export function checkLabels(files: readonly ListedImage[], classes: readonly string[], listFile: string, namesFile: string | undefined): void {
  const bad = files.find((f) => f.label >= classes.length);
  if (bad) {
    const names = namesFile ? `${namesFile} names ${classes.length} classes` : `the training list's labels go up to ${classes.length - 1}`;
    throw new FormatError(`${listFile}:${bad.line}`, `label ${bad.label} is out of range: ${names}`);
  }
}
