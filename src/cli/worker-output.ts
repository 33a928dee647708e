/**
 * What the launcher shows of its workers' stderr. Rank 0's passes through as
 * it comes (its live progress line ends in \r, not \n); the other ranks'
 * lines wait briefly and are dropped when rank 0 already said the same (every
 * rank finds the same bad option), so each message shows once.
 */

/** How long another rank's line waits for rank 0 to say the same. */
const HOLD_MS = 300;

interface Held {
  line: string;
  rank: number;
  timer: NodeJS.Timeout;
}

export class WorkerOutput {
  readonly #said = new Set<string>();
  readonly #held: Held[] = [];

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** False once nothing more should be shown (a rank failed: the others' words are its consequences). */
    private readonly open: (rank: number) => boolean,
  ) {}

  /** Passes `stream` of worker `rank` on. */
  attach(stream: NodeJS.ReadableStream | null, rank: number): void {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      if (rank === 0 && this.open(0)) this.out.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        // A live progress line is redrawn in place: only its last state counts as said.
        const text = line.slice(line.lastIndexOf('\r') + 1);
        if (rank === 0) this.#said.add(text);
        else this.#hold(text, rank);
      }
    });
  }

  #hold(line: string, rank: number): void {
    const entry: Held = { line, rank, timer: setTimeout(() => this.#release(entry), HOLD_MS) };
    this.#held.push(entry);
  }

  #release(entry: Held): void {
    const at = this.#held.indexOf(entry);
    if (at < 0) return;
    this.#held.splice(at, 1);
    if (this.#said.has(entry.line) || !this.open(entry.rank)) return;
    this.#said.add(entry.line);
    this.out.write(`${entry.line}\n`);
  }

  /** Releases the lines still held (once every worker has exited). */
  flush(): void {
    for (const entry of [...this.#held]) {
      clearTimeout(entry.timer);
      this.#release(entry);
    }
  }
}
