/**
 * Binary cache of decoded 8-bit image sets. One file per (source, decode
 * settings); inside it the fingerprint of the source files (names, sizes,
 * mtimes), so a changed folder is decoded again and the file replaced.
 *
 * Layout: "DSTIMG01", u32 LE header length, JSON header, zero padding to a
 * multiple of 8, labels as i32 LE, pixels as u8 CHW per image.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil.js';
import { ArrayDataset, sharedInt32, sharedUint8 } from './dataset.js';

const MAGIC = 'DSTIMG01';

interface CacheHeader {
  fingerprint: string;
  name: string;
  classes: string[];
  channels: number;
  height: number;
  width: number;
  count: number;
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export function cacheFile(cacheDir: string, identity: unknown): string {
  return path.join(cacheDir, `images-${hashOf(identity).slice(0, 24)}.bin`);
}

function dataStart(headerLength: number): number {
  return Math.ceil((12 + headerLength) / 8) * 8;
}

/** The cached set if the file exists and holds `fingerprint`; anything unreadable counts as a miss. */
export async function readImageCache(file: string, fingerprint: string): Promise<ArrayDataset | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const prefix = Buffer.alloc(12);
    await handle.read(prefix, 0, 12, 0);
    if (prefix.toString('latin1', 0, 8) !== MAGIC) return undefined;
    const headerLength = prefix.readUInt32LE(8);
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 12);
    const header = JSON.parse(headerBytes.toString('utf8')) as CacheHeader;
    if (header.fingerprint !== fingerprint) return undefined;
    const start = dataStart(headerLength);
    const pixels = header.count * header.channels * header.height * header.width;
    const { size } = await handle.stat();
    if (size !== start + header.count * 4 + pixels) return undefined;
    const labels = sharedInt32(header.count);
    const images = sharedUint8(pixels);
    await readFully(handle, new Uint8Array(labels.buffer), start);
    await readFully(handle, images, start + header.count * 4);
    return new ArrayDataset(header.name, header.classes, header.channels, header.height, header.width, images, labels);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

async function readFully(handle: fs.FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, Math.min(target.length - done, 1 << 28), position + done);
    if (bytesRead === 0) throw new Error('cache file shorter than its header says');
    done += bytesRead;
  }
}

export async function writeImageCache(file: string, fingerprint: string, dataset: ArrayDataset): Promise<void> {
  const header: CacheHeader = {
    fingerprint,
    name: dataset.name,
    classes: [...dataset.classes],
    channels: dataset.channels,
    height: dataset.height,
    width: dataset.width,
    count: dataset.length,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const start = dataStart(json.length);
  const out = Buffer.alloc(start + dataset.length * 4 + dataset.images.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  Buffer.from(dataset.labels.buffer, dataset.labels.byteOffset, dataset.labels.byteLength).copy(out, start);
  out.set(dataset.images, start + dataset.length * 4);
  await writeFileAtomic(file, out);
}
