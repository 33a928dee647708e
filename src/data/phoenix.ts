/**
 * Raw MSTAR files: an ASCII "Phoenix" header ("Key= value" lines, its own
 * length in PhoenixHeaderLength), then rows x columns big-endian float32
 * magnitudes, then (in most files) as many phase values, which we do not use.
 */
import { FormatError } from '../errors.js';

export interface PhoenixHeader {
  fields: ReadonlyMap<string, string>;
  headerLength: number;
  rows: number;
  columns: number;
  /** Where the magnitudes start: after the Phoenix header and any native header. */
  dataOffset: number;
  targetType: string | undefined;
  /** Desired depression angle in degrees when the header has one (17 train / 15 test in SOC). */
  depression: number | undefined;
}

const SIGNATURE = 'PhoenixHeader';

/** True when the bytes start like a Phoenix header ("[PhoenixHeaderVer..." or a PhoenixHeaderLength line). */
export function looksLikePhoenix(start: Uint8Array): boolean {
  return Buffer.from(start.subarray(0, 64)).toString('latin1').includes(SIGNATURE);
}

function positiveInt(fields: Map<string, string>, key: string, file: string): number {
  const raw = fields.get(key);
  if (raw === undefined) throw new FormatError(file, `Phoenix header has no ${key}`);
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new FormatError(file, `Phoenix header ${key}= "${raw}" is not a positive integer`);
  return Number(raw);
}

/** Parses the header; `bytes` needs to hold at least the header (the whole file is fine). */
export function parsePhoenixHeader(bytes: Uint8Array, file: string): PhoenixHeader {
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 1 << 16))).toString('latin1');
  const lengthMatch = /PhoenixHeaderLength\s*=\s*(\S*)/.exec(head);
  if (!lengthMatch) throw new FormatError(file, 'not a Phoenix (raw MSTAR) file: no PhoenixHeaderLength');
  const declared = lengthMatch[1]!;
  if (!/^\d+$/.test(declared) || Number(declared) <= 0 || Number(declared) > head.length) {
    throw new FormatError(file, `Phoenix header PhoenixHeaderLength= "${declared}" does not fit the file`);
  }
  const headerLength = Number(declared);
  const fields = new Map<string, string>();
  for (const line of head.slice(0, headerLength).split(/\r?\n/)) {
    const match = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) fields.set(match[1]!, match[2]!);
  }
  if (!head.slice(0, headerLength).includes('[EndofPhoenixHeader]')) {
    throw new FormatError(file, 'Phoenix header has no [EndofPhoenixHeader] within PhoenixHeaderLength');
  }
  const rows = positiveInt(fields, 'NumberOfRows', file);
  const columns = positiveInt(fields, 'NumberOfColumns', file);
  const native = fields.get('NativeHeaderLength');
  const nativeLength = native !== undefined && /^\d+$/.test(native) ? Number(native) : 0;
  const depressionText = fields.get('DesiredDepression') ?? fields.get('MeasuredDepression');
  const depression = depressionText !== undefined && Number.isFinite(Number(depressionText)) ? Number(depressionText) : undefined;
  return {
    fields,
    headerLength,
    rows,
    columns,
    dataOffset: headerLength + nativeLength,
    targetType: fields.get('TargetType') || undefined,
    depression,
  };
}

/** The rows x columns magnitude image (row-major). */
export function readPhoenixMagnitude(bytes: Uint8Array, header: PhoenixHeader, file: string): Float32Array {
  const count = header.rows * header.columns;
  const end = header.dataOffset + count * 4;
  if (bytes.length < end) {
    throw new FormatError(file, `holds ${bytes.length} bytes, the ${header.rows}x${header.columns} magnitudes need ${end} (truncated)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset, count * 4);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, false);
  return out;
}

/**
 * How magnitudes become 8-bit pixels, per chip:
 * - 'linear': round(255 * m / max(m)), the chip's peak at 255 (like MSTAR's xvmstar display);
 * - 'log':    decibels below the chip's peak, 0 dB -> 255 and -LOG_RANGE_DB dB or less -> 0.
 */
export type AmplitudeScale = 'linear' | 'log';

export const LOG_RANGE_DB = 50;

export function magnitudeToUint8(magnitude: Float32Array, scale: AmplitudeScale): Uint8Array {
  let peak = 0;
  for (const m of magnitude) if (Number.isFinite(m) && m > peak) peak = m;
  const out = new Uint8Array(magnitude.length);
  if (peak <= 0) return out;
  for (let i = 0; i < magnitude.length; i++) {
    const m = magnitude[i]!;
    if (!(m > 0)) continue;
    const v = scale === 'linear' ? (255 * m) / peak : (255 * (LOG_RANGE_DB + 20 * Math.log10(m / peak))) / LOG_RANGE_DB;
    out[i] = Math.round(Math.min(255, Math.max(0, v)));
  }
  return out;
}
