/** Writers for the on-disk formats the data readers accept, so tests build small real files. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { crc32 } from '../../src/crc32.js';

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `dst-${prefix}-`));
}

/** Deterministic pseudo-random bytes (a tiny LCG keeps fixtures independent of src/data's Rng). */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function tarHeader(name: string, size: number, type = '0'): Uint8Array {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A ustar archive; names longer than 100 bytes get a GNU 'L' record like GNU tar writes. */
export function tar(files: { name: string; data: Uint8Array }[]): Buffer {
  const parts: Uint8Array[] = [];
  const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
  for (const { name, data } of files) {
    if (Buffer.byteLength(name) > 100) {
      const long = Buffer.from(name + '\0');
      parts.push(tarHeader('././@LongLink', long.length, 'L'), long, pad(long.length));
    }
    parts.push(tarHeader(name, data.length), data, pad(data.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function tarGz(files: { name: string; data: Uint8Array }[]): Buffer {
  return gzipSync(tar(files));
}

/** A zip with deflated members (directories as stored entries), central directory and end record. */
export function zip(files: { name: string; data?: Uint8Array }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const raw = data ?? new Uint8Array(0);
    const method = data ? 8 : 0;
    const body = data ? deflateRawSync(raw) : Buffer.alloc(0);
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** CIFAR records: label byte(s) then 3072 CHW pixels. */
export function cifarRecords(labels: number[][], seed: number): { data: Buffer; pixels: Uint8Array[] } {
  const pixels = labels.map((_, i) => bytes(3072, seed * 1000 + i + 1));
  const data = Buffer.concat(labels.map((l, i) => Buffer.concat([Buffer.from(l), pixels[i]!])));
  return { data, pixels };
}

export interface PhoenixChip {
  rows: number;
  columns: number;
  magnitude: Float32Array;
  fields?: Record<string, string>;
  withPhase?: boolean;
}

/** A raw MSTAR file: Phoenix header padded to PhoenixHeaderLength, big-endian magnitudes, optional phase. */
export function phoenixFile(chip: PhoenixChip): Buffer {
  const lines = (length: number) =>
    [
      '[PhoenixHeaderVer01.04]',
      `PhoenixHeaderLength= ${String(length).padStart(6, '0')}`,
      'NativeHeaderLength= 0',
      `NumberOfColumns= ${chip.columns}`,
      `NumberOfRows= ${chip.rows}`,
      ...Object.entries(chip.fields ?? {}).map(([k, v]) => `${k}= ${v}`),
      '[EndofPhoenixHeader]',
      '',
    ].join('\n');
  const length = Math.ceil(Buffer.byteLength(lines(0)) / 512) * 512;
  const header = Buffer.alloc(length, 0x20);
  header.write(lines(length), 0, 'latin1');
  const count = chip.rows * chip.columns;
  const data = Buffer.alloc(count * 4 * (chip.withPhase ? 2 : 1));
  for (let i = 0; i < count; i++) data.writeFloatBE(chip.magnitude[i]!, i * 4);
  if (chip.withPhase) for (let i = 0; i < count; i++) data.writeFloatBE(-1.5, (count + i) * 4);
  return Buffer.concat([header, data]);
}

export type ImageFormat = 'png' | 'tiff' | 'jpeg';

/** Encodes 8-bit CHW pixels; PNG and TIFF are lossless, so a reader must return them exactly. */
export async function encodeImage(chw: Uint8Array, channels: 1 | 3, height: number, width: number, format: ImageFormat): Promise<Buffer> {
  const plane = height * width;
  const hwc = Buffer.alloc(chw.length);
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) hwc[i * channels + c] = chw[c * plane + i]!;
  let image = sharp(hwc, { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace('b-w');
  if (format === 'png') return image.png().toBuffer();
  if (format === 'tiff') return image.tiff({ compression: 'lzw' }).toBuffer();
  return image.jpeg({ quality: 95 }).toBuffer();
}

export async function writeFile(file: string, data: Uint8Array | string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
}
