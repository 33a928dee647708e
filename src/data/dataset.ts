/** The data contract: datasets are plain TypedArrays; the trainer makes tensors. */

export type PixelArray = Float32Array | Uint8Array;

/** One image in CHW order and its class index. */
export interface Sample {
  image: PixelArray;
  label: number;
}

export interface Dataset {
  readonly name: string;
  readonly classes: readonly string[];
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly length: number;
  get(index: number): Sample;
}

/** Allocations on SharedArrayBuffer so prefetch workers read the images without a copy. */
export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

export function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** A dataset held as one packed CHW array; every reader in src/data produces one. */
export class ArrayDataset implements Dataset {
  readonly length: number;
  readonly sampleSize: number;

  constructor(
    readonly name: string,
    readonly classes: readonly string[],
    readonly channels: number,
    readonly height: number,
    readonly width: number,
    readonly images: PixelArray,
    readonly labels: Int32Array,
  ) {
    this.sampleSize = channels * height * width;
    this.length = labels.length;
    if (images.length !== this.length * this.sampleSize) {
      throw new RangeError(
        `${name}: ${images.length} pixels do not hold ${this.length} images of ${channels}x${height}x${width}`,
      );
    }
  }

  /** The image is a view into the packed array: read it, do not write it. */
  get(index: number): Sample {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`${this.name}: index ${index} outside 0..${this.length - 1}`);
    }
    const start = index * this.sampleSize;
    return { image: this.images.subarray(start, start + this.sampleSize), label: this.labels[index]! };
  }

  /** A new dataset holding the given samples in the given order. */
  subset(name: string, indices: ArrayLike<number>): ArrayDataset {
    const size = this.sampleSize;
    const images = this.images instanceof Uint8Array ? sharedUint8(indices.length * size) : sharedFloat32(indices.length * size);
    const labels = sharedInt32(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const src = indices[i]!;
      images.set(this.images.subarray(src * size, (src + 1) * size), i * size);
      labels[i] = this.labels[src]!;
    }
    return new ArrayDataset(name, this.classes, this.channels, this.height, this.width, images, labels);
  }
}

/** Packs any Dataset into an ArrayDataset (what a prefetch worker needs); ArrayDatasets pass through. */
export function packDataset(dataset: Dataset): ArrayDataset {
  if (dataset instanceof ArrayDataset) return dataset;
  const size = dataset.channels * dataset.height * dataset.width;
  const first = dataset.length > 0 ? dataset.get(0).image : new Uint8Array(0);
  const images = first instanceof Uint8Array ? sharedUint8(dataset.length * size) : sharedFloat32(dataset.length * size);
  const labels = sharedInt32(dataset.length);
  for (let i = 0; i < dataset.length; i++) {
    const sample = dataset.get(i);
    if (sample.image.length !== size || sample.image instanceof Uint8Array !== images instanceof Uint8Array) {
      throw new RangeError(`${dataset.name}: sample ${i} differs in size or type from sample 0`);
    }
    images.set(sample.image, i * size);
    labels[i] = sample.label;
  }
  return new ArrayDataset(dataset.name, dataset.classes, dataset.channels, dataset.height, dataset.width, images, labels);
}

/** Per-channel mean and standard deviation, in `toFloat` units (8-bit pixels divided by 255). */
export interface ChannelStats {
  mean: number[];
  std: number[];
}

export function channelStats(dataset: ArrayDataset): ChannelStats {
  const { channels, images } = dataset;
  const plane = dataset.height * dataset.width;
  const scale = images instanceof Uint8Array ? 1 / 255 : 1;
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let n = 0; n < dataset.length; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * plane;
      // A per-plane integer-friendly accumulator keeps 150M-pixel sums exact enough and fast.
      let s = 0;
      let s2 = 0;
      for (let i = start; i < start + plane; i++) {
        const v = images[i]!;
        s += v;
        s2 += v * v;
      }
      sum[c] += s;
      sumSq[c] += s2;
    }
  }
  const count = Math.max(1, dataset.length * plane);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const m = sum[c]! / count;
    mean.push(m * scale);
    std.push(Math.sqrt(Math.max(0, sumSq[c]! / count - m * m)) * scale);
  }
  return { mean, std };
}
