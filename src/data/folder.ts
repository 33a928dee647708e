/**
 * Image-folder datasets in the layouts of folder-layout.ts (train/ + test|val|validation/,
 * one class tree split by seed, or list files), decoded once and cached.
 */
import { FormatError } from '../errors.js';
import type { ArrayDataset } from './dataset.js';
import { type ColorMode, decodeFitted, decodeImage, type FitMode, probeImage } from './decode.js';
import { requireDir } from './files.js';
import { type FolderFiles, type LayoutOptions, readFolderLayout } from './folder-layout.js';
import { loadImageSet } from './image-set.js';
import type { ProgressCallback } from './progress.js';

export interface FolderReadOptions extends Partial<LayoutOptions> {
  /** Dataset name prefix, e.g. 'mstar' gives 'mstar/train'. */
  name: string;
  color: ColorMode | 'auto';
  /** Fixed [height, width]; undefined takes the first training image's size and requires all to match. */
  size: readonly [number, number] | undefined;
  fit: FitMode;
  cacheDir: string | undefined;
  onProgress?: ProgressCallback;
}

export interface FolderSplits {
  train: ArrayDataset;
  test: ArrayDataset;
  /** Which layout was read and where the test split came from. */
  source: Omit<FolderFiles, 'train' | 'test' | 'classes'>;
}

export async function readImageFolder(dir: string, options: FolderReadOptions): Promise<FolderSplits> {
  await requireDir(dir, 'image folder');
  const { train, test, classes, ...source } = await readFolderLayout(dir, { ...options, seed: options.seed ?? 0 });
  const first = train[0]!.path;
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
    classes,
    channels,
    height,
    width,
    decode,
    settings: { color, size: fixed ?? null, fit: options.fit },
    cacheDir: options.cacheDir,
    onProgress: options.onProgress,
  };
  return {
    train: await loadImageSet(train, { ...common, name: `${options.name}/train` }),
    test: await loadImageSet(test, { ...common, name: `${options.name}/${source.testName}` }),
    source,
  };
}
