/** Runs .uhp models on the C engine: `const m = await loadModel('model.uhp', { threads: 2 }); m.run(x)`. */
import { ConfigError, FormatError, ShapeError } from '../errors.js';
import { readUhpFile } from '../export/read-uhp.js';
import { nativeEngine, type EngineHandle, type NativeLayer, type Schedule } from './native.js';

export type { Schedule } from './native.js';

/** One graph node, in the file's node order: its kernel, its multiply-adds per image and its time since profiling began. */
export type LayerTime = NativeLayer;

/** Kernel sets; 'auto' picks the best this CPU runs. */
export type Isa = 'auto' | 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface LoadOptions {
  threads?: number;
  isa?: Isa;
  /** With threads > 1: 'pool' (default) runs every image on the pool, 'caller' on the calling thread alone, 'auto' picks by recent image times. */
  schedule?: Schedule;
}

const SCHEDULES: readonly Schedule[] = ['pool', 'caller', 'auto'];

function checkSchedule(schedule: unknown): Schedule {
  if (SCHEDULES.includes(schedule as Schedule)) return schedule as Schedule;
  throw new ConfigError('schedule', `must be one of ${SCHEDULES.join(', ')}, got ${JSON.stringify(schedule)}`);
}

export interface Model {
  /** What run() reads per image: [C, H, W] before crop. */
  readonly inputShape: number[];
  /** What run() writes per image. */
  readonly outputShape: number[];
  /** The kernel set in use. */
  readonly isa: string;
  readonly threads: number;
  /** Who runs an image when threads > 1. */
  readonly schedule: Schedule;
  /** Bytes of packed weights plus the activation arena. */
  readonly memoryBytes: number;
  /** An int8 model (.uhp version 2): integer inference, scores dequantized from the output codes. */
  readonly int8: boolean;
  /** Runs `batch` images stored one after another in CHW order. */
  run(input: Float32Array, batch?: number): Float32Array;
  setThreads(threads: number): void;
  setSchedule(schedule: Schedule): void;
  /** Per-layer timing of every run() from now on (totals restart at zero), or off. */
  profile(on: boolean): void;
  /** Each graph node's summed time (ms) since profile(true). */
  layerTimes(): LayerTime[];
  dispose(): void;
}

/** Kernel sets this CPU runs, best first. */
export function availableIsas(): string[] {
  return nativeEngine().isas();
}

function checkThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new ConfigError('threads', `must be an integer 1..256, got ${threads}`);
}

/** Loads model bytes already in memory; `name` labels errors. */
export function loadModelBytes(bytes: Uint8Array, name: string, options: LoadOptions = {}): Model {
  const threads = options.threads ?? 1;
  const isa = options.isa ?? 'auto';
  checkThreads(threads);
  const schedule = checkSchedule(options.schedule ?? 'pool');
  const native = nativeEngine();
  if (isa !== 'auto' && !native.isas().includes(isa)) {
    throw new ConfigError('isa', `'${isa}' is not available on this CPU (available: ${native.isas().join(', ')})`);
  }
  let handle: EngineHandle | null;
  try {
    handle = native.load(bytes, isa, threads);
  } catch (err) {
    throw new FormatError(name, (err as Error).message);
  }
  native.setSchedule(handle, schedule);
  const info = native.info(handle);
  const perImage = info.inputShape.reduce((a, b) => a * b, 1);
  const live = (): EngineHandle => {
    if (!handle) throw new ConfigError('model', `${name} was disposed`);
    return handle;
  };
  return {
    inputShape: info.inputShape,
    outputShape: info.outputShape,
    isa: info.isa,
    get threads() {
      return native.info(live()).threads;
    },
    get schedule() {
      return native.info(live()).schedule;
    },
    memoryBytes: info.memoryBytes,
    int8: info.int8,
    run(input: Float32Array, batch = 1) {
      if (!Number.isInteger(batch) || batch < 1) throw new ConfigError('batch', `must be a positive integer, got ${batch}`);
      if (!(input instanceof Float32Array) || input.length !== perImage * batch) {
        const got = input instanceof Float32Array ? `${input.length} values` : 'not a Float32Array';
        throw new ShapeError(`${name}: input is ${got}; batch ${batch} of [${info.inputShape.join(', ')}] needs ${perImage * batch}`);
      }
      try {
        return native.run(live(), input, batch);
      } catch (err) {
        throw new ShapeError(`${name}: ${(err as Error).message}`);
      }
    },
    setThreads(n: number) {
      checkThreads(n);
      native.setThreads(live(), n);
    },
    setSchedule(next: Schedule) {
      native.setSchedule(live(), checkSchedule(next));
    },
    profile(on: boolean) {
      native.profile(live(), on);
    },
    layerTimes() {
      return native.layers(live());
    },
    dispose() {
      if (handle) native.dispose(handle);
      handle = null;
    },
  };
}

/** Reads and validates a .uhp file; a malformed file throws FormatError naming the file and the fault. */
export async function loadModel(file: string, options: LoadOptions = {}): Promise<Model> {
  return loadModelBytes(await readUhpFile(file), file, options);
}
