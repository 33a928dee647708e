/** Reads a state dict (name -> tensor) from a `torch.save` file or a safetensors file. */
import { promises as fs } from 'node:fs';
import { DstError, FormatError } from '../errors.js';
import { readSafetensors, type RawTensor } from '../nn/safetensors.js';
import type { PyValue } from './pickle.js';
import { readTorchFile } from './torch-file.js';

export interface SourceStateDict {
  tensors: Map<string, RawTensor>;
  format: 'pth' | 'safetensors';
  /** The key of a checkpoint dict the state dict was found under (e.g. 'state_dict'), or null for a bare state dict. */
  entry: string | null;
}

/** Keys under which training scripts commonly save the model's state dict inside a checkpoint dict. */
const CHECKPOINT_ENTRIES = ['state_dict', 'model_state_dict', 'model', 'net', 'state'];

async function sniff(file: string): Promise<Buffer> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DstError('E_NOT_FOUND', `${file}: no such file`);
    throw new FormatError(file, `cannot read: ${(err as Error).message}`);
  }
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The dict's entries when every value is a tensor, else undefined. */
function tensorDict(value: PyValue | undefined, tensors: ReadonlyMap<PyValue, RawTensor>): Map<string, RawTensor> | undefined {
  if (!(value instanceof Map) || value.size === 0) return undefined;
  const out = new Map<string, RawTensor>();
  for (const [k, v] of value) {
    const t = tensors.get(v);
    if (typeof k !== 'string' || t === undefined) return undefined;
    out.set(k, t);
  }
  return out;
}

function describeKeys(value: PyValue): string {
  if (!(value instanceof Map)) return 'it holds no dict';
  const keys = [...value.keys()].slice(0, 8).map(String);
  return `top-level keys: ${keys.join(', ')}${value.size > keys.length ? ', ...' : ''}`;
}

/** Reads `file` by its content: a zip is a torch.save file, anything else must be safetensors. */
export async function readStateDict(file: string): Promise<SourceStateDict> {
  const head = await sniff(file);
  if (head.length === 4 && head.readUInt32LE(0) === 0x04034b50) {
    const { root, tensors } = await readTorchFile(file);
    const direct = tensorDict(root, tensors);
    if (direct) return { tensors: direct, format: 'pth', entry: null };
    for (const entry of CHECKPOINT_ENTRIES) {
      const nested = root instanceof Map ? tensorDict(root.get(entry), tensors) : undefined;
      if (nested) return { tensors: nested, format: 'pth', entry };
    }
    throw new FormatError(file, `holds no state dict (a dict of tensors, at the top or under ${CHECKPOINT_ENTRIES.join('/')}); ${describeKeys(root)}`);
  }
  // Before 1.6 (and with _use_new_zipfile_serialization=False) torch.save wrote bare pickles, which start with PROTO.
  if (head[0] === 0x80) {
    throw new FormatError(file, 'is a legacy (pre-1.6) torch.save file, which dst does not read: load it in PyTorch and save it again with torch.save or as safetensors');
  }
  let tensors: Map<string, RawTensor>;
  try {
    ({ tensors } = await readSafetensors(file));
  } catch (err) {
    // Only a file that claims to be safetensors gets the safetensors reader's detail.
    if (err instanceof FormatError && !file.endsWith('.safetensors')) throw new FormatError(file, 'is neither a torch.save file (a zip) nor a safetensors file');
    throw err;
  }
  if (tensors.size === 0) throw new FormatError(file, 'holds no tensors');
  return { tensors, format: 'safetensors', entry: null };
}
