import { DstError, FormatError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { RegularFile } from '../regular-file.js';
import { tensor, type DType, type Tensor, type TypedData } from '../torch/tensor.js';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping names to {dtype, shape, data_offsets}, then the raw little-endian
 * bytes. Offsets are relative to the end of the header and must tile the data
 * exactly, with no gaps or overlaps.
 */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

const codeOf: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const dtypeOf: Record<string, DType> = { F32: 'float32', F64: 'float64', I64: 'int64', I32: 'int32', U8: 'uint8', BOOL: 'bool' };
const byteWidth: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function typedView(dtype: DType, bytes: Uint8Array): TypedData {
  // Copy so the view is aligned regardless of where the tensor sat in the file
  // (and so a Buffer's slice, which is a view, does not alias the file data).
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const own = copy.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(own);
    case 'float64':
      return new Float64Array(own);
    case 'int64':
      return new BigInt64Array(own);
    case 'int32':
      return new Int32Array(own);
    case 'uint8':
    case 'bool':
      return new Uint8Array(own);
  }
}

export function encodeSafetensors(tensors: ReadonlyMap<string, RawTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.byteLength;
    const expected = t.shape.reduce((a, b) => a * b, 1) * byteWidth[t.dtype];
    if (bytes !== expected) throw new FormatError(name, `holds ${bytes} bytes, shape [${t.shape.join(', ')}] of ${t.dtype} needs ${expected}`);
    header[name] = { dtype: codeOf[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // The reference implementation pads the header with spaces to 8 bytes so the data starts aligned.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

export function decodeSafetensors(bytes: Uint8Array, file: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new FormatError(file, 'too short for a safetensors file');
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new FormatError(file, `header length ${headerLength} does not fit in a file of ${bytes.length} bytes`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  } catch {
    throw new FormatError(file, 'header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FormatError(file, 'header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof e?.dtype === 'string' ? dtypeOf[e.dtype] : undefined;
    if (dtype === undefined) throw new FormatError(file, `tensor '${name}' has unsupported dtype ${JSON.stringify(e?.dtype)} (dst reads F32, F64, I64, I32, U8, BOOL)`);
    if (!isShape(e.shape)) throw new FormatError(file, `tensor '${name}' has an invalid shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((v) => Number.isSafeInteger(v) && v >= 0) || offsets[0] > offsets[1]) {
      throw new FormatError(file, `tensor '${name}' has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) throw new FormatError(file, `tensor '${name}' ends at byte ${end}, past the end of the data (${dataLength} bytes): file truncated?`);
    const need = e.shape.reduce((a, b) => a * b, 1) * byteWidth[dtype];
    if (end - begin !== need) throw new FormatError(file, `tensor '${name}' spans ${end - begin} bytes, its shape and dtype need ${need}`);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape: e.shape, data: typedView(dtype, bytes.subarray(dataStart + begin, dataStart + end)) });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor) throw new FormatError(file, `tensor '${name}' ${begin < cursor ? 'overlaps the previous one' : 'leaves a gap before it'}`);
    cursor = end;
  }
  if (cursor !== dataLength) throw new FormatError(file, `${dataLength - cursor} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

function rawOf(t: Tensor): RawTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data() };
}

/** Writes tensors (e.g. a state dict) to `file` atomically. */
export async function saveSafetensors(file: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Promise<void> {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) raw.set(name, rawOf(t));
  await writeFileAtomic(file, encodeSafetensors(raw, metadata));
}

/**
 * The length the header declares for the whole file: 8 + header + the end of
 * the last tensor. A malformed header declares nothing; decodeSafetensors then
 * names its fault.
 */
function declaredLength(headerLength: number, header: Buffer): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header.toString('utf8'));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') return null;
  let end = 0;
  for (const [name, entry] of Object.entries(parsed as Record<string, { data_offsets?: unknown }>)) {
    if (name === '__metadata__') continue;
    const last = Array.isArray(entry?.data_offsets) ? entry.data_offsets[1] : undefined;
    if (!Number.isSafeInteger(last) || (last as number) < 0) return null;
    end = Math.max(end, last as number);
  }
  return 8 + headerLength + end;
}

/**
 * Reads the header first and then no more than the length it declares; a file
 * longer than that, or not a regular file (/dev/zero, a FIFO), is refused
 * before its data is read.
 */
export async function readSafetensors(file: string): Promise<{ tensors: Map<string, RawTensor>; metadata: Record<string, string> }> {
  let handle: RegularFile;
  try {
    handle = await RegularFile.open(file);
  } catch (err) {
    if (err instanceof DstError) throw err;
    throw new FormatError(file, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(err as Error).message}`);
  }
  try {
    const { size } = handle;
    let length = size;
    const prefix = await handle.readAt(0, 8);
    if (prefix.length === 8) {
      const headerLength = Number(prefix.readBigUInt64LE(0));
      if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
        throw new FormatError(file, `header length ${headerLength} does not fit in a file of ${size} bytes`);
      }
      const declared = declaredLength(headerLength, await handle.readAt(8, headerLength));
      if (declared !== null && size > declared) throw new FormatError(file, `${size - declared} trailing bytes after the last tensor`);
      length = Math.min(size, declared ?? size);
    }
    const bytes = await handle.readAt(0, length);
    return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
  } finally {
    await handle.close();
  }
}

/** Reads `file` into new tensors (the caller owns and disposes them). */
export async function loadSafetensors(file: string): Promise<{ tensors: Map<string, Tensor>; metadata: Record<string, string> }> {
  const { tensors: raw, metadata } = await readSafetensors(file);
  const tensors = new Map<string, Tensor>();
  for (const [name, r] of raw) tensors.set(name, tensor(r.data, r.shape, r.dtype));
  return { tensors, metadata };
}
