import type { Tensor } from '../torch/tensor.js';

/** Accumulates loss, top-1/top-5 and a confusion matrix over batches of logits. */
export class ClassificationMeter {
  /** [label][predicted]; an image whose scores are not all finite has no prediction and is left out. */
  readonly confusion: number[][];
  /** Images per label, those without a prediction included. */
  readonly #perLabel: number[];
  #lossSum = 0;
  #count = 0;
  #top1 = 0;
  #top5 = 0;
  #nonFinite = 0;

  constructor(readonly numClasses: number) {
    this.confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
    this.#perLabel = new Array<number>(numClasses).fill(0);
  }

  /**
   * `logits` [N, K] (read once into JS), labels [N], and the batch's mean loss.
   * Returns the predicted class per image, -1 where a score is NaN or infinite:
   * such an image counts as wrong, since no comparison with NaN can rank it.
   */
  add(logits: Tensor, labels: Int32Array, meanLoss: number): Int32Array {
    const k = this.numClasses;
    const scores = logits.data() as Float32Array;
    const n = labels.length;
    const predictions = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = scores.subarray(i * k, (i + 1) * k);
      const label = labels[i]!;
      this.#perLabel[label]!++;
      if (!row.every(Number.isFinite)) {
        this.#nonFinite++;
        predictions[i] = -1;
        continue;
      }
      const own = row[label]!;
      let predicted = 0;
      let ahead = 0;
      for (let c = 0; c < k; c++) {
        if (row[c]! > row[predicted]!) predicted = c;
        // Equal scores rank by class index, as an arg-max (the generated C's) picks the first: top-1 is then the
        // prediction the confusion matrix records, for int8 scores that often tie; a constant output is right only for class 0.
        if (row[c]! > own || (row[c] === own && c < label)) ahead++;
      }
      if (ahead === 0) this.#top1++;
      if (ahead < 5) this.#top5++;
      this.confusion[label]![predicted]!++;
      predictions[i] = predicted;
    }
    this.#lossSum += meanLoss * n;
    this.#count += n;
    return predictions;
  }

  get count(): number {
    return this.#count;
  }

  /** Images whose scores held a NaN or an infinity. */
  get nonFinite(): number {
    return this.#nonFinite;
  }

  get loss(): number {
    return this.#count === 0 ? NaN : this.#lossSum / this.#count;
  }

  get top1(): number {
    return this.#count === 0 ? NaN : this.#top1 / this.#count;
  }

  get top5(): number {
    return this.#count === 0 ? NaN : this.#top5 / this.#count;
  }

  /**
   * Replaces the counts with `reduce` of them: the meters of several ranks,
   * each over its part of a test set, summed into the whole set's.
   */
  combine(reduce: (counts: number[]) => number[]): void {
    const k = this.numClasses;
    const counts = reduce([this.#lossSum, this.#count, this.#top1, this.#top5, this.#nonFinite, ...this.#perLabel, ...this.confusion.flat()]);
    [this.#lossSum, this.#count, this.#top1, this.#top5, this.#nonFinite] = counts as [number, number, number, number, number];
    counts.slice(5, 5 + k).forEach((v, c) => (this.#perLabel[c] = v));
    this.confusion.forEach((row, label) => row.forEach((_, predicted) => (row[predicted] = counts[5 + k + label * k + predicted]!)));
  }

  perClassAccuracy(): number[] {
    return this.confusion.map((row, c) => {
      const total = this.#perLabel[c]!;
      return total === 0 ? NaN : row[c]! / total;
    });
  }
}
