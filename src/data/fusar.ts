/**
 * FUSAR-Ship: Gaofen-3 TIFF chips in <Category>/<SubCategory>/ folders, no
 * official split. A class is a folder path relative to the root ("Cargo", or
 * "Cargo/BulkCarrier" for a sub-category); the default is every top-level
 * category. Chips are brought to one size (512x512 chips resized to 128 by
 * default) and split train/test per class by seed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import type { ArrayDataset } from './dataset.js';
import { type ColorMode, decodeFitted, type FitMode } from './decode.js';
import { isImageFile, listFilesDeep, requireDir, subfolders } from './files.js';
import { type ImageFile, loadImageSet } from './image-set.js';
import type { ProgressCallback } from './progress.js';
import { stratifiedSplit } from './split.js';

export interface FusarOptions {
  classes: readonly string[] | undefined;
  size: readonly [number, number];
  fit: FitMode;
  color: ColorMode;
  testFraction: number;
  seed: number;
  cacheDir: string | undefined;
  onProgress?: ProgressCallback;
}

export async function readFusar(dir: string, options: FusarOptions): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  await requireDir(dir, 'FUSAR-Ship folder');
  const classes = options.classes ? [...options.classes] : await subfolders(dir);
  if (classes.length === 0) throw new FormatError(dir, 'holds no category folders');
  const nested = classes.find((a) => classes.some((b) => a !== b && a.startsWith(`${b}/`)));
  if (nested) throw new ConfigError('classes', `"${nested}" lies inside another listed class, so its chips would count twice`);
  const files: ImageFile[] = [];
  for (const [label, name] of classes.entries()) {
    const folder = path.join(dir, ...name.split('/'));
    const stat = await fs.stat(folder).catch(() => undefined);
    if (!stat?.isDirectory()) throw new ConfigError('classes', `"${name}" is not a folder of ${dir}`);
    const chips = await listFilesDeep(folder, isImageFile);
    if (chips.length === 0) throw new FormatError(folder, 'class folder holds no TIFF/PNG/JPEG chips');
    for (const chip of chips) files.push({ path: chip, label });
  }
  const channels = options.color === 'gray' ? 1 : 3;
  const [height, width] = options.size;
  const all = await loadImageSet(files, {
    name: 'fusar',
    classes,
    channels,
    height,
    width,
    decode: (file) => decodeFitted(file, file, options.color, options.size, options.fit),
    settings: { color: options.color, fit: options.fit },
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
  });
  const split = stratifiedSplit(all.labels, options.testFraction, options.seed);
  return { train: all.subset('fusar/train', split.train), test: all.subset('fusar/test', split.test) };
}
