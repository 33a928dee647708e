/** Slow loads report progress through a callback; the CLI draws the bar. */
export interface DataProgress {
  /** What is being done, e.g. 'decode mstar/train' or 'read cifar10'. */
  stage: string;
  done: number;
  total: number;
}

export type ProgressCallback = (progress: DataProgress) => void;
