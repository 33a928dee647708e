/**
 * CIFAR-10 / CIFAR-100 from the official binary distributions
 * (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz), read from the archive
 * or from the extracted folder. Records are label byte(s) + 3072 pixels
 * already in CHW order (1024 R, 1024 G, 1024 B).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import { ArrayDataset, sharedInt32, sharedUint8 } from './dataset.js';
import { listFilesDeep, requirePath } from './files.js';
import type { ProgressCallback } from './progress.js';
import { readTarArchive } from './tar.js';

export type CifarKind = 'cifar10' | 'cifar100';
export type CifarLabels = 'fine' | 'coarse';

const PIXELS = 3 * 32 * 32;

interface Layout {
  train: string[];
  test: string[];
  /** Label bytes before the pixels, and which of them is the class. */
  labelBytes: number;
  names: string;
  classCount: number;
}

function layout(kind: CifarKind, labels: CifarLabels): Layout {
  if (kind === 'cifar10') {
    return {
      train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
      test: ['test_batch.bin'],
      labelBytes: 1,
      names: 'batches.meta.txt',
      classCount: 10,
    };
  }
  return {
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    names: labels === 'coarse' ? 'coarse_label_names.txt' : 'fine_label_names.txt',
    classCount: labels === 'coarse' ? 20 : 100,
  };
}

/** Name -> bytes of the distribution's files, from a .tar(.gz) or a folder (searched recursively). */
async function distributionFiles(source: string, wanted: readonly string[]): Promise<Map<string, { file: string; data: Uint8Array }>> {
  const found = new Map<string, { file: string; data: Uint8Array }>();
  if ((await requirePath(source, 'CIFAR data')) === 'file') {
    for (const entry of await readTarArchive(await fs.readFile(source), source)) {
      const base = path.posix.basename(entry.name);
      if (wanted.includes(base)) found.set(base, { file: `${source}:${entry.name}`, data: entry.data });
    }
    return found;
  }
  for (const file of await listFilesDeep(source, (name) => wanted.includes(name))) {
    const base = path.basename(file);
    if (!found.has(base)) found.set(base, { file, data: await fs.readFile(file) });
  }
  return found;
}

function parseBatches(
  name: string,
  parts: { file: string; data: Uint8Array }[],
  spec: Layout,
  labels: CifarLabels,
  classes: readonly string[],
): ArrayDataset {
  const record = spec.labelBytes + PIXELS;
  for (const { file, data } of parts) {
    if (data.length === 0 || data.length % record !== 0) {
      throw new FormatError(file, `length ${data.length} is not a whole number of ${record}-byte records (truncated or not a CIFAR binary file)`);
    }
  }
  const total = parts.reduce((n, p) => n + p.data.length / record, 0);
  const images = sharedUint8(total * PIXELS);
  const out = sharedInt32(total);
  // CIFAR-100 records start with the coarse label, then the fine one.
  const labelAt = spec.labelBytes === 2 && labels === 'fine' ? 1 : 0;
  let n = 0;
  for (const { file, data } of parts) {
    for (let r = 0; r < data.length; r += record, n++) {
      const label = data[r + labelAt]!;
      if (label >= spec.classCount) {
        throw new FormatError(file, `record ${r / record} has label ${label}, beyond the ${spec.classCount} classes`);
      }
      out[n] = label;
      images.set(data.subarray(r + spec.labelBytes, r + record), n * PIXELS);
    }
  }
  return new ArrayDataset(name, classes, 3, 32, 32, images, out);
}

export async function readCifar(
  kind: CifarKind,
  source: string,
  labels: CifarLabels,
  onProgress?: ProgressCallback,
): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  const spec = layout(kind, labels);
  const stage = `read ${kind}`;
  onProgress?.({ stage, done: 0, total: 1 });
  const files = await distributionFiles(source, [...spec.train, ...spec.test, spec.names]);
  const pick = (names: string[]) =>
    names.map((n) => {
      const f = files.get(n);
      if (!f) throw new FormatError(source, `${n} is missing: not the ${kind} binary distribution`);
      return f;
    });
  const namesFile = files.get(spec.names);
  // The class-name file is optional in practice (people copy only the .bin files); indices then name the classes.
  const classes = namesFile
    ? Buffer.from(namesFile.data)
        .toString('utf8')
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : Array.from({ length: spec.classCount }, (_, i) => String(i));
  if (classes.length !== spec.classCount) {
    throw new FormatError(namesFile!.file, `lists ${classes.length} class names, ${kind} has ${spec.classCount}`);
  }
  const train = parseBatches(`${kind}/train`, pick(spec.train), spec, labels, classes);
  const test = parseBatches(`${kind}/test`, pick(spec.test), spec, labels, classes);
  onProgress?.({ stage, done: 1, total: 1 });
  return { train, test };
}
