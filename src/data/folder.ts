/** Image-folder datasets: <dir>/train/<class>/** and <dir>/test/<class>/**, decoded once and cached. */
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import type { ArrayDataset } from './dataset.js';
import { type ColorMode, decodeFitted, decodeImage, type FitMode, probeImage } from './decode.js';
import { findChild, isImageFile, listFilesDeep, requireDir, subfolders } from './files.js';
import { type ImageFile, loadImageSet } from './image-set.js';
import type { ProgressCallback } from './progress.js';

export interface ClassTree {
  classes: string[];
  files: ImageFile[];
}

/**
 * One class per sub-folder of `dir` (images anywhere below it). `classes`
 * fixes the class list and order, e.g. the training split's for the test split.
 */
export async function listClassTree(dir: string, classes?: readonly string[]): Promise<ClassTree> {
  const found = await subfolders(dir);
  const names = classes ? [...classes] : found;
  if (names.length === 0) throw new FormatError(dir, 'holds no class folders');
  const extra = found.filter((f) => !names.includes(f));
  if (classes && extra.length > 0) {
    throw new FormatError(dir, `class folder "${extra[0]}" is not one of the training classes`);
  }
  const files: ImageFile[] = [];
  for (const [label, name] of names.entries()) {
    if (!found.includes(name)) continue;
    const images = await listFilesDeep(path.join(dir, name), isImageFile);
    if (images.length === 0) throw new FormatError(path.join(dir, name), 'class folder holds no JPEG/PNG/TIFF images');
    for (const file of images) files.push({ path: file, label });
  }
  if (files.length === 0) throw new FormatError(dir, 'holds no images');
  return { classes: names, files };
}

export interface FolderReadOptions {
  /** Dataset name prefix, e.g. 'mstar' gives 'mstar/train'. */
  name: string;
  color: ColorMode | 'auto';
  /** Fixed [height, width]; undefined takes the first training image's size and requires all to match. */
  size: readonly [number, number] | undefined;
  fit: FitMode;
  cacheDir: string | undefined;
  onProgress?: ProgressCallback;
}

export async function readImageFolder(dir: string, options: FolderReadOptions): Promise<{ train: ArrayDataset; test: ArrayDataset }> {
  await requireDir(dir, 'image folder');
  const trainDir = await findChild(dir, 'train');
  const testDir = await findChild(dir, 'test');
  if (!trainDir || !testDir) throw new FormatError(dir, 'needs train/ and test/ sub-folders, each with one folder per class');
  const train = await listClassTree(trainDir);
  const test = await listClassTree(testDir, train.classes);
  const first = train.files[0]!.path;
  const probe = await probeImage(first, first);
  const color = options.color === 'auto' ? (probe.channels === 1 ? 'gray' : 'rgb') : options.color;
  const channels = color === 'gray' ? 1 : 3;
  const fixed = options.size;
  const [height, width] = fixed ?? [probe.height, probe.width];
  const decode = async (file: string) => {
    if (fixed) return decodeFitted(file, file, color, fixed, options.fit);
    const image = await decodeImage(file, file, color);
    if (image.height !== height || image.width !== width) {
      throw new FormatError(file, `is ${image.height}x${image.width} but ${first} is ${height}x${width}: set the size option`);
    }
    return image;
  };
  const common = {
    classes: train.classes,
    channels,
    height,
    width,
    decode,
    settings: { color, size: fixed ?? null, fit: options.fit },
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
  };
  return {
    train: await loadImageSet(train.files, { ...common, name: `${options.name}/train` }),
    test: await loadImageSet(test.files, { ...common, name: `${options.name}/test` }),
  };
}
