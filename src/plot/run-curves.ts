import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import type { RunDir } from '../train/run-dir.js';
import { lineChart } from './line-chart.js';
import { paletteColor } from './palette.js';

export const CURVES_FILE = 'curves.svg';

/** One metrics.jsonl line: the epoch and whatever numbers the run logged (JSON turns NaN into null). */
export interface EpochMetrics {
  epoch: number;
  [key: string]: number | null | undefined;
}

const TRAIN = paletteColor(0);
const TEST = paletteColor(1);
const LR = paletteColor(2);
const SPARSITY = paletteColor(3);

/** Reads metrics.jsonl, naming the file and line of anything that is not an epoch record. */
export async function readMetrics(file: string): Promise<EpochMetrics[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch {
    throw new FormatError(file, 'missing: not a run directory, or no epoch has finished yet');
  }
  const records: EpochMetrics[] = [];
  content.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new FormatError(`${file}:${i + 1}`, 'not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { epoch?: unknown }).epoch !== 'number') {
      throw new FormatError(`${file}:${i + 1}`, 'expected an object with a numeric "epoch"');
    }
    records.push(value as EpochMetrics);
  });
  if (!records.length) throw new FormatError(file, 'holds no epochs yet');
  return records;
}

function column(records: readonly EpochMetrics[], key: string, scale = 1): number[] {
  return records.map((r) => {
    const v = r[key];
    return typeof v === 'number' ? v * scale : NaN;
  });
}

function percent(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

/** "12 epochs · final test top-1 91.20% · best 91.45% (epoch 11)", or less when the run logged less. */
function subtitle(records: readonly EpochMetrics[]): string {
  const parts = [`${records.length} epoch${records.length === 1 ? '' : 's'}`];
  const top1 = column(records, 'testTop1');
  const last = top1[top1.length - 1]!;
  if (Number.isFinite(last)) parts.push(`final test top-1 ${percent(last)}`);
  const best = top1.reduce((b, v, i) => (Number.isFinite(v) && (b < 0 || v > top1[b]!) ? i : b), -1);
  if (best >= 0 && best !== top1.length - 1) parts.push(`best ${percent(top1[best]!)} (epoch ${records[best]!.epoch})`);
  return parts.join(' · ');
}

/** Loss, top-1 and schedule (learning rate, and sparsity for pruning runs) per epoch. */
export function curvesSvg(records: readonly EpochMetrics[], title: string): string {
  return lineChart({
    title,
    subtitle: subtitle(records),
    x: records.map((r) => r.epoch),
    xLabel: 'epoch',
    integerX: true,
    panels: [
      {
        title: 'Loss',
        yLabel: 'cross-entropy',
        series: [
          { name: 'train', values: column(records, 'trainLoss'), color: TRAIN },
          { name: 'test', values: column(records, 'testLoss'), color: TEST },
        ],
      },
      {
        title: 'Top-1 accuracy',
        yLabel: '%',
        series: [
          { name: 'train', values: column(records, 'trainTop1', 100), color: TRAIN },
          { name: 'test', values: column(records, 'testTop1', 100), color: TEST },
        ],
      },
      {
        title: 'Schedule',
        yLabel: 'learning rate',
        y2Label: 'sparsity %',
        series: [
          { name: 'learning rate', values: column(records, 'lr'), color: LR },
          { name: 'sparsity', values: column(records, 'sparsity', 100), color: SPARSITY, axis: 'right', dashed: true },
        ],
      },
    ],
  });
}

/** Writes the curves next to the run's other files (or to `out`) and returns the path. */
export async function writeCurves(runRoot: string, records: readonly EpochMetrics[], title: string, out = path.join(runRoot, CURVES_FILE)): Promise<string> {
  await writeFileAtomic(out, curvesSvg(records, title));
  return out;
}

/**
 * Keeps a training run's curves.svg current after every epoch. Writes are
 * chained so they land in epoch order. A failed one is dropped: a stale plot
 * must not stop training, and `finish` reports any error of the final write.
 */
export class LiveCurves {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runDir: RunDir,
    readonly title: string,
  ) {}

  /** After an epoch, with every epoch so far (a resumed run's earlier ones included). */
  epochDone(history: readonly EpochMetrics[]): void {
    this.#queue = this.#queue.then(async () => writeCurves(this.runDir.root, history, this.title)).catch(() => undefined);
  }

  async finish(records: readonly EpochMetrics[]): Promise<string> {
    await this.#queue;
    return writeCurves(this.runDir.root, records, this.title);
  }
}
