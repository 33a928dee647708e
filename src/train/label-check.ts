import { FormatError } from '../errors.js';
import type { ArrayDataset } from '../data/dataset.js';

/**
 * Every label names one of the split's classes. A stale or damaged decoded
 * image cache can hold others, which LibTorch would only report mid-epoch
 * as an out-of-bounds target.
 */
export function checkLabels(spec: string, splits: readonly ArrayDataset[]): void {
  for (const split of splits) {
    const classes = split.classes.length;
    const bad = split.labels.find((label) => label < 0 || label >= classes);
    if (bad === undefined) continue;
    throw new FormatError(
      spec,
      `the ${split.name} split holds label ${bad} but has ${classes} classes; if it came from the decoded-image cache, delete that cache (dataOptions.cacheDir, default .cache/dst) or set cacheDir=off, and run again`,
    );
  }
}
