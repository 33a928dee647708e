/**
 * MSTAR in either of the layouts people have: 8-bit JPEG chips in
 * train|test/<CLASS>/ folders (e.g. ../shared/data/mstar-soc), or the raw
 * distribution's Phoenix files. Chips vary in size by class, so every chip is
 * centre-cropped (zero-padded if smaller) to one size at load, 128x128 by default.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import type { ArrayDataset } from './dataset.js';
import { centerFit } from './decode.js';
import { findChild, isImageFile, listFilesDeep, requireDir } from './files.js';
import { readImageFolder } from './folder.js';
import { type ImageFile, loadImageSet } from './image-set.js';
import { type AmplitudeScale, looksLikePhoenix, magnitudeToUint8, parsePhoenixHeader, readPhoenixMagnitude } from './phoenix.js';
import type { ProgressCallback } from './progress.js';

export type MstarLayout = 'jpeg' | 'phoenix';
export type MstarClassSource = 'header' | 'folder';

export interface MstarOptions {
  size: readonly [number, number];
  amplitude: AmplitudeScale;
  classFrom: MstarClassSource;
  cacheDir: string | undefined;
  onProgress?: ProgressCallback;
}

export interface MstarSplits {
  train: ArrayDataset;
  test: ArrayDataset;
  layout: MstarLayout;
}

async function readStart(file: string, length: number): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function readMstar(dir: string, options: MstarOptions): Promise<MstarSplits> {
  await requireDir(dir, 'MSTAR folder');
  const files = await listFilesDeep(dir);
  const phoenix: string[] = [];
  for (const file of files) if (!isImageFile(file) && looksLikePhoenix(await readStart(file, 64))) phoenix.push(file);
  if (phoenix.length > 0) return { ...(await readPhoenixTree(dir, phoenix, options)), layout: 'phoenix' };
  if (files.some(isImageFile)) {
    const splits = await readImageFolder(dir, {
      name: 'mstar',
      color: 'gray',
      size: options.size,
      fit: 'center',
      cacheDir: options.cacheDir,
      onProgress: options.onProgress,
    });
    return { ...splits, layout: 'jpeg' };
  }
  throw new FormatError(dir, 'holds neither MSTAR JPEG chips (train/<class>/*.jpeg) nor raw Phoenix files');
}

/** Which split a raw file belongs to: its train/ or test/ folder, else SOC's 17° (train) / 15° (test) depression. */
function splitOf(file: string, depression: number | undefined, trainDir?: string, testDir?: string): 'train' | 'test' {
  if (trainDir && testDir) {
    if (file.startsWith(trainDir + path.sep)) return 'train';
    if (file.startsWith(testDir + path.sep)) return 'test';
    throw new FormatError(file, 'is outside the train/ and test/ folders');
  }
  const degrees = depression === undefined ? undefined : Math.round(depression);
  if (degrees === 17) return 'train';
  if (degrees === 15) return 'test';
  throw new FormatError(file, `depression ${depression ?? 'missing'}° is neither 17° (train) nor 15° (test): put the files in train/ and test/ folders`);
}

async function readPhoenixTree(dir: string, files: string[], options: MstarOptions): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  const trainDir = await findChild(dir, 'train');
  const testDir = await findChild(dir, 'test');
  const entries: { file: string; split: 'train' | 'test'; className: string }[] = [];
  for (const file of files) {
    const header = parsePhoenixHeader(await readStart(file, 1 << 16), file);
    const split = splitOf(file, header.depression, trainDir, testDir);
    let className: string;
    if (options.classFrom === 'header') {
      if (!header.targetType) throw new FormatError(file, 'Phoenix header has no TargetType (use classFrom=folder)');
      className = header.targetType;
    } else {
      const base = trainDir && testDir ? (split === 'train' ? trainDir : testDir) : dir;
      const parts = path.relative(base, file).split(path.sep);
      if (parts.length < 2) throw new FormatError(file, 'has no class folder above it (use classFrom=header)');
      className = parts[0]!;
    }
    entries.push({ file, split, className });
  }
  const classes = [...new Set(entries.filter((e) => e.split === 'train').map((e) => e.className))].sort();
  const unknown = entries.find((e) => !classes.includes(e.className));
  if (unknown) throw new FormatError(unknown.file, `class ${unknown.className} has no training chips`);
  const [height, width] = options.size;
  const decode = async (file: string) => {
    const bytes = await fs.readFile(file);
    const header = parsePhoenixHeader(bytes, file);
    const pixels = magnitudeToUint8(readPhoenixMagnitude(bytes, header, file), options.amplitude);
    return centerFit({ data: pixels, channels: 1, height: header.rows, width: header.columns }, height, width);
  };
  const common = {
    classes,
    channels: 1,
    height,
    width,
    decode,
    settings: { format: 'phoenix', amplitude: options.amplitude, classFrom: options.classFrom },
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
  };
  const list = (split: 'train' | 'test'): ImageFile[] =>
    entries.filter((e) => e.split === split).map((e) => ({ path: e.file, label: classes.indexOf(e.className) }));
  const test = list('test');
  if (test.length === 0) throw new FormatError(dir, 'holds no test chips');
  return {
    train: await loadImageSet(list('train'), { ...common, name: 'mstar/train' }),
    test: await loadImageSet(test, { ...common, name: 'mstar/test' }),
  };
}
