/**
 * Random-access zip reader: the central directory says where each entry is,
 * so a dataset reads only the members it needs, straight from the archive.
 * Stored and deflated members, ZIP64 sizes and offsets; CRC-checked. No read
 * goes past the file's end and no member inflates past its declared size, so
 * a zip bomb costs what its directory admits to, not what it expands to.
 */
import { kMaxLength } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { FormatError } from '../errors.js';
import { crc32 } from '../crc32.js';
import { RegularFile } from '../regular-file.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The most a caller accepts from one member, and what such a member is, for the refusal. */
export interface MemberLimit {
  bytes: number;
  what: string;
}

export class ZipReader {
  private constructor(
    readonly file: string,
    private readonly handle: RegularFile,
    readonly entries: ZipEntry[],
  ) {}

  static async open(file: string): Promise<ZipReader> {
    const handle = await RegularFile.open(file);
    try {
      return new ZipReader(file, handle, await readCentralDirectory(file, handle));
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The member's bytes; one declaring more than `limit` is refused before a byte of it is read. */
  async read(entry: ZipEntry, limit: MemberLimit = { bytes: kMaxLength, what: 'a member dst reads into memory' }): Promise<Buffer> {
    if (entry.size > limit.bytes) {
      throw new FormatError(this.file, `member ${entry.name} declares ${entry.size} bytes; ${limit.what} is at most ${limit.bytes}`);
    }
    const local = await this.handle.readAt(entry.localHeaderOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) {
      throw new FormatError(this.file, `member ${entry.name}: local header missing (corrupt zip)`);
    }
    const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    const raw = await this.handle.readAt(start, entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new FormatError(this.file, `member ${entry.name} is truncated`);
    let data: Buffer;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try {
        // zlib stops as soon as the output passes the declared size (its minimum is 1).
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new FormatError(this.file, `member ${entry.name} inflates past its declared ${entry.size} bytes (corrupt zip or zip bomb)`);
        }
        throw new FormatError(this.file, `member ${entry.name}: deflate data is corrupt (${(err as Error).message})`);
      }
    } else throw new FormatError(this.file, `member ${entry.name}: compression method ${entry.method} is not supported`);
    if (data.length !== entry.size || crc32(data) !== entry.crc32) {
      throw new FormatError(this.file, `member ${entry.name} fails its CRC check (corrupt zip)`);
    }
    return data;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readCentralDirectory(file: string, handle: RegularFile): Promise<ZipEntry[]> {
  const { size } = handle;
  // The end record sits within the last 22 + 65535 (comment) bytes.
  const tailLength = Math.min(size, 22 + 65535 + 20);
  const tail = await handle.readAt(size - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new FormatError(file, 'not a zip archive (no end of central directory record)');
  let count = tail.readUInt16LE(at + 10);
  let dirSize = tail.readUInt32LE(at + 12);
  let dirOffset = tail.readUInt32LE(at + 16);
  if (at >= 20 && tail.readUInt32LE(at - 20) === EOCD64_LOCATOR) {
    const record = await handle.readAt(Number(tail.readBigUInt64LE(at - 20 + 8)), 56);
    if (record.length < 56 || record.readUInt32LE(0) !== EOCD64) throw new FormatError(file, 'ZIP64 end record missing (corrupt zip)');
    count = Number(record.readBigUInt64LE(32));
    dirSize = Number(record.readBigUInt64LE(40));
    dirOffset = Number(record.readBigUInt64LE(48));
  }
  const dir = await handle.readAt(dirOffset, dirSize);
  if (dir.length < dirSize) throw new FormatError(file, 'central directory is truncated');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL) {
      throw new FormatError(file, `central directory entry ${i} is corrupt`);
    }
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    };
    applyZip64Extra(entry, dir.subarray(p + 46 + nameLength, p + 46 + nameLength + extraLength));
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** ZIP64 stores the real values, in this order, for the fields saturated at 0xffffffff. */
function applyZip64Extra(entry: ZipEntry, extra: Buffer): void {
  for (let q = 0; q + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(q);
    const length = extra.readUInt16LE(q + 2);
    if (id === 0x0001) {
      let r = q + 4;
      for (const field of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
        if (entry[field] === 0xffffffff && r + 8 <= q + 4 + length) {
          entry[field] = Number(extra.readBigUInt64LE(r));
          r += 8;
        }
      }
    }
    q += 4 + length;
  }
}
