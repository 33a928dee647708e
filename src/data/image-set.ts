/** Decodes a labelled list of image files into one ArrayDataset, through the image cache. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, FormatError } from '../errors.js';
import { ArrayDataset, sharedInt32, sharedUint8 } from './dataset.js';
import type { DecodedImage } from './decode.js';
import { cacheFile, hashOf, readImageCache, writeImageCache } from './image-cache.js';
import type { ProgressCallback } from './progress.js';

export interface ImageFile {
  path: string;
  label: number;
}

export interface ImageSetOptions {
  name: string;
  classes: readonly string[];
  channels: number;
  height: number;
  width: number;
  /** Must return exactly channels x height x width 8-bit CHW pixels. */
  decode: (file: string) => Promise<DecodedImage>;
  /** Everything besides the files that changes the decoded pixels (colour mode, size, scaling...). */
  settings: Record<string, unknown>;
  /** Folder for the cache file; undefined turns caching off. */
  cacheDir: string | undefined;
  onProgress?: ProgressCallback;
}

/** Decodes several files at once: libvips works on libuv's thread pool. */
const CONCURRENCY = 8;

async function statAll(files: readonly string[]): Promise<{ size: number; mtimeMs: number }[]> {
  const stats = new Array<{ size: number; mtimeMs: number }>(files.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(64, files.length) }, async () => {
      while (next < files.length) {
        const i = next++;
        const s = await fs.stat(files[i]!);
        stats[i] = { size: s.size, mtimeMs: s.mtimeMs };
      }
    }),
  );
  return stats;
}

export async function loadImageSet(files: readonly ImageFile[], options: ImageSetOptions): Promise<ArrayDataset> {
  const { name, classes, channels, height, width } = options;
  let cache: { file: string; fingerprint: string } | undefined;
  if (options.cacheDir !== undefined) {
    const paths = files.map((f) => path.resolve(f.path));
    const stats = await statAll(paths);
    const identity = { name, classes, shape: [channels, height, width], settings: options.settings, root: commonRoot(paths) };
    cache = {
      file: cacheFile(options.cacheDir, identity),
      fingerprint: hashOf({ identity, files: paths.map((p, i) => [p, files[i]!.label, stats[i]!.size, stats[i]!.mtimeMs]) }),
    };
    const hit = await readImageCache(cache.file, cache.fingerprint);
    if (hit) return hit;
  }

  const per = channels * height * width;
  const images = sharedUint8(files.length * per);
  const labels = sharedInt32(files.length);
  const stage = `decode ${name}`;
  let next = 0;
  let done = 0;
  options.onProgress?.({ stage, done, total: files.length });
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, files.length) }, async () => {
      while (next < files.length) {
        const i = next++;
        const file = files[i]!;
        const image = await options.decode(file.path);
        if (image.channels !== channels || image.height !== height || image.width !== width) {
          throw new FormatError(
            file.path,
            `decodes to ${image.channels}x${image.height}x${image.width}, expected ${channels}x${height}x${width}`,
          );
        }
        images.set(image.data, i * per);
        labels[i] = file.label;
        done++;
        if (done % 256 === 0 || done === files.length) options.onProgress?.({ stage, done, total: files.length });
      }
    }),
  );
  const dataset = new ArrayDataset(name, classes, channels, height, width, images, labels);
  if (cache) {
    try {
      await writeImageCache(cache.file, cache.fingerprint, dataset);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError('cacheDir', `cannot write the image cache in ${options.cacheDir} (${reason}): choose another folder or cacheDir=off`);
    }
  }
  return dataset;
}

function commonRoot(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let root = path.dirname(paths[0]!);
  for (const p of paths) while (!p.startsWith(root + path.sep) && root !== path.dirname(root)) root = path.dirname(root);
  return root;
}
