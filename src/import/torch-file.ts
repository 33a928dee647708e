/**
 * Reads what `torch.save` writes since PyTorch 1.6: a zip holding
 * `<name>/data.pkl` (the pickled object, tensors as persistent references to
 * storages), `<name>/data/<key>` (each storage's raw bytes) and
 * `<name>/byteorder`. Only the pieces of a state dict are understood; see
 * pickle.ts for what is refused.
 */
import { constants } from 'node:buffer';
import { DstError, FormatError } from '../errors.js';
import type { RawTensor } from '../nn/safetensors.js';
import { ZipReader } from '../data/zip.js';
import { type PyGlobal, type PyObject, type PyValue, unpickle } from './pickle.js';

/** Storage classes a state dict's tensors use, with the dtype dst stores them as. */
const STORAGE_TYPES: Record<string, { bytes: number; dtype: 'float32' | 'int64' }> = {
  FloatStorage: { bytes: 4, dtype: 'float32' },
  LongStorage: { bytes: 8, dtype: 'int64' },
};

/** A storage the pickle refers to; read from the zip only once a tensor needs it. */
interface StorageRef {
  storageType: string;
  key: string;
  numel: number;
}

/** The arguments of `_rebuild_tensor_v2`, resolved into a tensor after unpickling. */
interface TensorRef {
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

const object = (value: unknown): PyObject => ({ kind: 'object', value });

function isObject(value: PyValue): value is PyObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && value.kind === 'object';
}

function isTensorRef(value: PyValue): value is PyObject & { value: TensorRef } {
  return isObject(value) && (value.value as Partial<TensorRef>).storage !== undefined;
}

function intList(value: PyValue, what: string, source: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new FormatError(source, `${what} is not a tuple of non-negative integers`);
  }
  return value as number[];
}

function tensorGlobals(source: string): (module: string, name: string) => PyGlobal | undefined {
  return (module, name) => {
    const global = { kind: 'global' as const, module, name };
    if (module === 'collections' && name === 'OrderedDict') {
      return { ...global, call: () => new Map() };
    }
    if (module === 'torch' && /^[A-Za-z0-9]+Storage$/.test(name)) return global;
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') {
      return {
        ...global,
        call: (args) => {
          const [storage, offset, size, stride] = args;
          if (storage === undefined || !isObject(storage) || (storage.value as Partial<StorageRef>).storageType === undefined || typeof offset !== 'number') {
            throw new FormatError(source, '_rebuild_tensor_v2 called without a storage and an offset');
          }
          return object({ storage: storage.value as StorageRef, offset, size: intList(size ?? null, 'tensor size', source), stride: intList(stride ?? null, 'tensor stride', source) } satisfies TensorRef);
        },
      };
    }
    // nn.Parameter objects (e.g. a saved dict(model.named_parameters())) rebuild through this; dst keeps the tensor.
    if (module === 'torch._utils' && name === '_rebuild_parameter') {
      return { ...global, call: (args) => args[0] ?? null };
    }
    return undefined;
  };
}

function persistentLoad(source: string): (pid: PyValue) => PyValue {
  return (pid) => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') throw new FormatError(source, 'a persistent id is not a storage reference');
    const [, type, key, , numel] = pid;
    const storageType = typeof type === 'object' && type !== null && 'kind' in type && type.kind === 'global' ? type.name : undefined;
    if (storageType === undefined || typeof key !== 'string' || typeof numel !== 'number') throw new FormatError(source, 'malformed storage reference');
    return object({ storageType, key, numel } satisfies StorageRef);
  };
}

/** Copies a strided view of `storage` into a new contiguous buffer of `elementBytes`-wide elements. */
function gather(storage: Uint8Array, ref: TensorRef, elementBytes: number, name: string, source: string): Uint8Array {
  const { size, stride, offset } = ref;
  if (size.length !== stride.length) throw new FormatError(source, `tensor '${name}' has ${size.length} sizes but ${stride.length} strides`);
  const count = size.reduce((a, b) => a * b, 1);
  if (count === 0) return new Uint8Array(0);
  // Bounds first: the sizes come from the file, so they are checked before anything is allocated for them.
  const last = offset + size.reduce((sum, s, d) => sum + (s - 1) * stride[d]!, 0);
  if (last >= storage.length / elementBytes) {
    throw new FormatError(source, `tensor '${name}' of size [${size.join(', ')}] reads past its storage of ${storage.length / elementBytes} elements`);
  }
  if (count * elementBytes > constants.MAX_LENGTH) throw new FormatError(source, `tensor '${name}' of size [${size.join(', ')}] is too large to hold in memory`);
  const out = new Uint8Array(count * elementBytes);
  const contiguous = size.every((s, d) => s === 1 || stride[d] === size.slice(d + 1).reduce((a, b) => a * b, 1));
  if (contiguous) {
    out.set(storage.subarray(offset * elementBytes, (offset + count) * elementBytes));
    return out;
  }
  const index = new Array<number>(size.length).fill(0);
  for (let i = 0; i < count; i++) {
    let element = offset;
    for (let d = 0; d < size.length; d++) element += index[d]! * stride[d]!;
    out.set(storage.subarray(element * elementBytes, (element + 1) * elementBytes), i * elementBytes);
    for (let d = size.length - 1; d >= 0 && ++index[d]! === size[d]; d--) index[d] = 0;
  }
  return out;
}

function typed(bytes: Uint8Array, dtype: 'float32' | 'int64'): RawTensor['data'] {
  return dtype === 'float32' ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
}

/** A big-endian file's elements, swapped in place to the little-endian order typed arrays use here. */
function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** The object `torch.save` wrote, and the tensor each `_rebuild_tensor_v2` result in it stands for. */
export interface TorchFileContent {
  /** The top-level object: for a state dict, a dict of tensors. */
  root: PyValue;
  tensors: Map<PyValue, RawTensor>;
}

/** Reads a zip-format `torch.save` file: unpickles data.pkl, then decodes every tensor it refers to. */
export async function readTorchFile(file: string): Promise<TorchFileContent> {
  let zip: ZipReader;
  try {
    zip = await ZipReader.open(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DstError('E_NOT_FOUND', `${file}: no such file`);
    throw err;
  }
  try {
    const pickles = zip.entries.filter((e) => e.name === 'data.pkl' || e.name.endsWith('/data.pkl'));
    if (pickles.length !== 1) throw new FormatError(file, `holds ${pickles.length} data.pkl members; a torch.save file holds one`);
    const prefix = pickles[0]!.name.slice(0, -'data.pkl'.length);
    const byName = new Map(zip.entries.map((e) => [e.name, e]));
    const byteorderEntry = byName.get(`${prefix}byteorder`);
    const byteorder = byteorderEntry ? (await zip.read(byteorderEntry)).toString('latin1').trim() : 'little';
    if (byteorder !== 'little' && byteorder !== 'big') throw new FormatError(file, `byteorder '${byteorder}' is neither little nor big`);
    const source = `${file}:${pickles[0]!.name}`;
    const root = unpickle(await zip.read(pickles[0]!), { source, globals: tensorGlobals(source), persistentLoad: persistentLoad(source) });

    const storages = new Map<string, Uint8Array>();
    const storageBytes = async (ref: StorageRef, width: number): Promise<Uint8Array> => {
      let bytes = storages.get(ref.key);
      if (bytes === undefined) {
        const entry = byName.get(`${prefix}data/${ref.key}`);
        if (entry === undefined) throw new FormatError(file, `storage ${ref.key} is missing (member ${prefix}data/${ref.key})`);
        bytes = new Uint8Array(await zip.read(entry));
        if (bytes.length !== ref.numel * width) throw new FormatError(file, `storage ${ref.key} holds ${bytes.length} bytes, ${ref.numel} elements need ${ref.numel * width}`);
        if (byteorder === 'big') swapBytes(bytes, width);
        storages.set(ref.key, bytes);
      }
      return bytes;
    };
    const tensors = new Map<PyValue, RawTensor>();
    // The memo lets a pickle share a container many times over or put one inside itself: visit each once.
    const seen = new Set<PyValue>();
    const visit = async (value: PyValue, name: string): Promise<void> => {
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return;
        seen.add(value);
      }
      if (value instanceof Map) {
        for (const [k, v] of value) await visit(v, name ? `${name}.${String(k)}` : String(k));
      } else if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) await visit(v, `${name}[${i}]`);
      } else if (isTensorRef(value)) {
        const ref = value.value;
        const kind = STORAGE_TYPES[ref.storage.storageType];
        if (kind === undefined) {
          throw new DstError('E_UNSUPPORTED', `${file}: tensor '${name}' is a torch.${ref.storage.storageType}; dst imports float32 (FloatStorage) and int64 (LongStorage) tensors: convert with model.float() before torch.save`);
        }
        const bytes = gather(await storageBytes(ref.storage, kind.bytes), ref, kind.bytes, name, file);
        tensors.set(value, { dtype: kind.dtype, shape: [...ref.size], data: typed(bytes, kind.dtype) });
      }
    };
    await visit(root, '');
    return { root, tensors };
  } finally {
    await zip.close();
  }
}
