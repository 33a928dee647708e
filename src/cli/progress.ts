import type { DataProgress } from '../data/progress.js';
import type { TrainEvent } from '../train/trainer.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '--';
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((width * done) / total) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/**
 * Draws training progress on stderr: one live line on a terminal, plain log
 * lines (epoch summaries, a few per-epoch checkpoints) otherwise, so CI logs
 * stay readable.
 */
export class ProgressPrinter {
  readonly #tty: boolean;
  readonly #stream: NodeJS.WriteStream;
  #lastLive = 0;
  #liveShown = false;

  constructor(stream: NodeJS.WriteStream = process.stderr, readonly label = '') {
    this.#stream = stream;
    // A worker of `--nproc` writes into its launcher's pipe, which passes the live line on to the terminal.
    this.#tty = (Boolean(stream.isTTY) || process.env.DST_PROGRESS_COLUMNS !== undefined) && !process.env.CI;
  }

  #live(text: string): void {
    const now = Date.now();
    if (now - this.#lastLive < 100) return;
    this.#lastLive = now;
    const width = this.#stream.columns ?? (Number(process.env.DST_PROGRESS_COLUMNS) || 120);
    this.#stream.write(`\r${text.slice(0, width - 1).padEnd(width - 1)}`);
    this.#liveShown = true;
  }

  line(text: string): void {
    if (this.#liveShown) {
      this.#stream.write('\r\x1b[2K');
      this.#liveShown = false;
    }
    this.#stream.write(`${this.label ? `[${this.label}] ` : ''}${text}\n`);
  }

  data = (p: DataProgress): void => {
    if (this.#tty) this.#live(`${p.stage} ${bar(p.done, p.total)} ${p.done}/${p.total}`);
    else if (p.done === p.total) this.line(`${p.stage}: ${p.total} done`);
  };

  train = (e: TrainEvent): void => {
    const prefix = this.label ? `[${this.label}] ` : '';
    switch (e.kind) {
      case 'start':
        this.line(
          e.startEpoch > 0
            ? `resuming at epoch ${e.startEpoch + 1}/${e.epochs}`
            : `training ${e.epochs} epochs of ${e.stepsPerEpoch} steps (${e.trainSize} train / ${e.testSize} test images)`,
        );
        break;
      case 'step': {
        const text = `${prefix}epoch ${e.epoch + 1}/${e.epochs} ${bar(e.step, e.stepsPerEpoch)} ${e.step}/${e.stepsPerEpoch} loss ${e.loss.toFixed(4)} acc ${pct(e.accuracy)} ${e.imagesPerSecond.toFixed(0)} img/s lr ${e.lr.toPrecision(3)} ETA ${duration(e.etaSeconds)}`;
        if (this.#tty) this.#live(text);
        break;
      }
      case 'eval':
        if (this.#tty) this.#live(`${prefix}epoch ${e.epoch + 1} evaluating ${bar(e.done, e.total)} ${e.done}/${e.total}`);
        break;
      case 'epoch': {
        const r = e.record;
        const extras = Object.entries(r)
          .filter(([k]) => !['epoch', 'lr', 'trainLoss', 'trainTop1', 'testLoss', 'testTop1', 'testTop5', 'seconds', 'imagesPerSecond'].includes(k))
          .map(([k, v]) => ` ${k} ${Number(v).toPrecision(4)}`)
          .join('');
        this.line(
          `epoch ${r.epoch}/${e.epochs}  lr ${r.lr.toPrecision(3)}  train loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainTop1)}  test loss ${r.testLoss.toFixed(4)} top1 ${pct(r.testTop1)} top5 ${pct(r.testTop5)}${extras}  ${r.seconds.toFixed(1)}s ${r.imagesPerSecond.toFixed(0)} img/s`,
        );
        break;
      }
    }
  };
}

/** Progress callbacks for a pipeline: each stage draws under its own label. */
export function pipelineProgress(): {
  onStage: (name: string, state: 'skip' | 'run') => void;
  onEvent: (e: TrainEvent) => void;
  onDataProgress: (p: DataProgress) => void;
  onStageLine: (name: string, line: string) => void;
} {
  let progress = new ProgressPrinter();
  return {
    onStage: (name, state) => {
      progress = new ProgressPrinter(process.stderr, name);
      progress.line(state === 'skip' ? 'finished earlier, skipped' : 'running');
    },
    onEvent: (e) => progress.train(e),
    onDataProgress: (p) => progress.data(p),
    // Stages in parallel share the terminal: plain labelled lines, no live line.
    onStageLine: (name, line) => void process.stderr.write(`[${name}] ${line}\n`),
  };
}
