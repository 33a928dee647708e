/** Minimal tar reader (ustar, GNU long names, pax paths): enough for dataset archives held in memory. */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { FormatError } from '../errors.js';

export interface TarEntry {
  name: string;
  data: Uint8Array;
}

const BLOCK = 512;
const gunzipAsync = promisify(gunzip);

function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(field: Uint8Array, file: string, what: string): number {
  if (field[0]! & 0x80) {
    // GNU base-256 for sizes beyond 8 GiB.
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const digits = text(field).trim();
  if (!/^[0-7]*$/.test(digits)) throw new FormatError(file, `tar header ${what} "${digits}" is not octal`);
  return digits === '' ? 0 : parseInt(digits, 8);
}

function paxPath(data: Uint8Array): string | undefined {
  const records = Buffer.from(data).toString('utf8');
  let path: string | undefined;
  for (const line of records.split('\n')) {
    const match = /^\d+ ([^=]+)=(.*)$/.exec(line);
    if (match?.[1] === 'path') path = match[2];
  }
  return path;
}

/** The regular files of an uncompressed tar archive, as views into `archive`. */
export function readTar(archive: Uint8Array, file: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries;
    const stored = octal(header.subarray(148, 156), file, 'checksum');
    let sum = 8 * 0x20;
    for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += header[i]!;
    if (sum !== stored) throw new FormatError(file, `tar header at byte ${offset} has a bad checksum (corrupt archive)`);
    const size = octal(header.subarray(124, 136), file, 'size');
    const type = String.fromCharCode(header[156]!);
    const start = offset + BLOCK;
    if (start + size > archive.length) {
      throw new FormatError(file, `tar entry "${text(header.subarray(0, 100))}" is truncated (archive cut short)`);
    }
    const data = archive.subarray(start, start + size);
    const ustar = text(header.subarray(257, 263)).startsWith('ustar');
    const prefix = ustar ? text(header.subarray(345, 500)) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    longName = undefined;
    if (type === 'L') longName = text(data);
    else if (type === 'x') longName = paxPath(data);
    else if (type === '0' || type === '\0' || type === '7') entries.push({ name, data });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (offset < archive.length || entries.length === 0) {
    throw new FormatError(file, 'tar archive is truncated (no end-of-archive marker)');
  }
  return entries;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads a .tar or .tar.gz held in memory. */
export async function readTarArchive(bytes: Uint8Array, file: string): Promise<TarEntry[]> {
  if (!isGzip(bytes)) return readTar(bytes, file);
  let tar: Uint8Array;
  try {
    tar = await gunzipAsync(bytes);
  } catch (err) {
    throw new FormatError(file, `gzip data is corrupt or truncated (${(err as Error).message})`);
  }
  return readTar(tar, file);
}
