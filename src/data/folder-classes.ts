/** One class per sub-folder: the labelled image list of a class tree. */
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import { isImageFile, listFilesDeep, subfolders } from './files.js';
import type { ImageFile } from './image-set.js';

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
