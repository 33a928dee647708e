import type { Tensor } from '../torch/tensor.js';

/** Accumulates loss, top-1/top-5 and a confusion matrix over batches of logits. */
export class ClassificationMeter {
  readonly confusion: number[][];
  #lossSum = 0;
  #count = 0;
  #top1 = 0;
  #top5 = 0;

  constructor(readonly numClasses: number) {
    this.confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  }

  /** `logits` [N, K] (read once into JS), labels [N], and the batch's mean loss. */
  add(logits: Tensor, labels: Int32Array, meanLoss: number): void {
    const k = this.numClasses;
    const scores = logits.data() as Float32Array;
    const n = labels.length;
    for (let i = 0; i < n; i++) {
      const row = scores.subarray(i * k, (i + 1) * k);
      const label = labels[i]!;
      const own = row[label]!;
      let predicted = 0;
      let above = 0;
      for (let c = 0; c < k; c++) {
        if (row[c]! > row[predicted]!) predicted = c;
        // Ties count against the label, so a constant output never scores top-5.
        if (c !== label && row[c]! >= own) above++;
      }
      if (above === 0) this.#top1++;
      if (above < 5) this.#top5++;
      this.confusion[label]![predicted]!++;
    }
    this.#lossSum += meanLoss * n;
    this.#count += n;
  }

  get count(): number {
    return this.#count;
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

  perClassAccuracy(): number[] {
    return this.confusion.map((row, c) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total === 0 ? NaN : row[c]! / total;
    });
  }
}
