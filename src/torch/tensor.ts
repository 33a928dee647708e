import { DstError, ShapeError } from '../errors.js';
import { torchAddon, type NativeHandle } from './native.js';
import { track } from './scope.js';
import { opTracer } from './trace-hook.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
export type Operand = Tensor | number;

const native = torchAddon();

function operand(value: Operand): NativeHandle | number {
  return typeof value === 'number' ? value : value.handle;
}

/** A LibTorch tensor. Free it with `dispose()` or create it inside `tidy()`. */
export class Tensor {
  #handle: NativeHandle | null;
  #shape: readonly number[] | undefined;

  constructor(handle: NativeHandle) {
    this.#handle = handle;
    track(this);
  }

  get handle(): NativeHandle {
    if (this.#handle === null) throw new DstError('E_DISPOSED', 'tensor was disposed');
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  dispose(): void {
    if (this.#handle !== null) {
      native.dispose(this.#handle);
      this.#handle = null;
    }
  }

  get shape(): readonly number[] {
    this.#shape ??= Object.freeze(native.shape(this.handle));
    return this.#shape;
  }

  get rank(): number {
    return this.shape.length;
  }

  get dtype(): DType {
    return native.dtype(this.handle) as DType;
  }

  get size(): number {
    return native.numel(this.handle);
  }

  /** A copy of the elements, row-major: Float32Array for float32, BigInt64Array for int64, Uint8Array for uint8/bool. */
  data(): TypedData {
    return native.toTypedArray(this.handle);
  }

  /** The elements as plain numbers (int64 converted). */
  toArray(): number[] {
    return Array.from(this.data() as ArrayLike<number | bigint>, Number);
  }

  item(): number {
    return native.item(this.handle);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : native.toString(this.handle);
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }

  set requiresGrad(on: boolean) {
    native.setRequiresGrad(this.handle, on);
  }

  backward(gradient?: Tensor): void {
    native.backward(this.handle, gradient?.handle ?? null);
  }

  /** The accumulated gradient, as a new tensor sharing its storage, or null when none exists. */
  get grad(): Tensor | null {
    const g = native.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }

  clearGrad(): void {
    native.clearGrad(this.handle);
  }

  detach(): Tensor {
    return new Tensor(native.detach(this.handle));
  }

  clone(): Tensor {
    return new Tensor(native.clone(this.handle));
  }

  to(dtype: DType): Tensor {
    return new Tensor(native.toDtype(this.handle, dtype));
  }

  // ---- elementwise ----
  add(other: Operand): Tensor {
    const y = new Tensor(native.add(this.handle, operand(other)));
    opTracer?.record('add', y, [this, other], { alpha: 1 });
    return y;
  }
  sub(other: Operand): Tensor {
    return new Tensor(native.sub(this.handle, operand(other)));
  }
  mul(other: Operand): Tensor {
    return new Tensor(native.mul(this.handle, operand(other)));
  }
  div(other: Operand): Tensor {
    return new Tensor(native.div(this.handle, operand(other)));
  }
  /** In place: this += alpha * other. */
  add_(other: Operand, alpha = 1): this {
    native.add_(this.handle, operand(other), alpha);
    opTracer?.record('add', this, [this, other], { alpha });
    return this;
  }
  sub_(other: Operand): this {
    native.sub_(this.handle, operand(other));
    return this;
  }
  mul_(other: Operand): this {
    native.mul_(this.handle, operand(other));
    return this;
  }
  div_(other: Operand): this {
    native.div_(this.handle, operand(other));
    return this;
  }
  copy_(source: Tensor): this {
    native.copy_(this.handle, source.handle);
    return this;
  }
  fill_(value: number): this {
    native.fill_(this.handle, value);
    return this;
  }
  relu_(): this {
    native.relu_(this.handle);
    opTracer?.record('relu', this, [this]);
    return this;
  }
  neg(): Tensor {
    return new Tensor(native.neg(this.handle));
  }
  abs(): Tensor {
    return new Tensor(native.abs(this.handle));
  }
  sqrt(): Tensor {
    return new Tensor(native.sqrt(this.handle));
  }
  exp(): Tensor {
    return new Tensor(native.exp(this.handle));
  }
  log(): Tensor {
    return new Tensor(native.log(this.handle));
  }
  sign(): Tensor {
    return new Tensor(native.sign(this.handle));
  }
  pow(exponent: Operand): Tensor {
    return new Tensor(native.pow(this.handle, operand(exponent)));
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native.clamp(this.handle, min, max));
  }
  relu(): Tensor {
    const y = new Tensor(native.relu(this.handle));
    opTracer?.record('relu', y, [this]);
    return y;
  }
  eq(other: Operand): Tensor {
    return new Tensor(native.eq(this.handle, operand(other)));
  }
  ne(other: Operand): Tensor {
    return new Tensor(native.ne(this.handle, operand(other)));
  }
  lt(other: Operand): Tensor {
    return new Tensor(native.lt(this.handle, operand(other)));
  }
  le(other: Operand): Tensor {
    return new Tensor(native.le(this.handle, operand(other)));
  }
  gt(other: Operand): Tensor {
    return new Tensor(native.gt(this.handle, operand(other)));
  }
  ge(other: Operand): Tensor {
    return new Tensor(native.ge(this.handle, operand(other)));
  }
  matmul(other: Tensor): Tensor {
    return new Tensor(native.matmul(this.handle, other.handle));
  }

  // ---- reductions ----
  sum(dims?: number | number[], keepDim = false): Tensor {
    return new Tensor(native.sum(this.handle, dims === undefined ? null : [dims].flat(), keepDim));
  }
  mean(dims?: number | number[], keepDim = false): Tensor {
    return new Tensor(native.mean(this.handle, dims === undefined ? null : [dims].flat(), keepDim));
  }
  max(): Tensor {
    return new Tensor(native.maxAll(this.handle));
  }
  min(): Tensor {
    return new Tensor(native.minAll(this.handle));
  }
  maxAlong(dim: number, keepDim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.maxDim(this.handle, dim, keepDim);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }
  argmax(dim: number, keepDim = false): Tensor {
    return new Tensor(native.argmax(this.handle, dim, keepDim));
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = native.topk(this.handle, k, dim, largest);
    return { values: new Tensor(values), indices: new Tensor(indices) };
  }

  // ---- shape ----
  reshape(shape: readonly number[]): Tensor {
    const y = new Tensor(native.reshape(this.handle, [...shape]));
    opTracer?.record('reshape', y, [this]);
    return y;
  }
  view(shape: readonly number[]): Tensor {
    const y = new Tensor(native.view(this.handle, [...shape]));
    opTracer?.record('reshape', y, [this]);
    return y;
  }
  permute(dims: readonly number[]): Tensor {
    return new Tensor(native.permute(this.handle, [...dims]));
  }
  transpose(a: number, b: number): Tensor {
    return new Tensor(native.transpose(this.handle, a, b));
  }
  contiguous(): Tensor {
    return new Tensor(native.contiguous(this.handle));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    const y = new Tensor(native.flatten(this.handle, startDim, endDim));
    opTracer?.record('reshape', y, [this]);
    return y;
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(native.unsqueeze(this.handle, dim));
  }
  squeeze(dim: number): Tensor {
    return new Tensor(native.squeeze(this.handle, dim));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native.narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native.indexSelect(this.handle, dim, index.handle));
  }
  /** Constant padding, PyTorch order: [lastLeft, lastRight, secondLastLeft, ...]. */
  pad(pads: readonly number[], value = 0): Tensor {
    return new Tensor(native.pad(this.handle, [...pads], value));
  }
  flip(dims: readonly number[]): Tensor {
    return new Tensor(native.flip(this.handle, [...dims]));
  }
  softmax(dim: number): Tensor {
    const y = new Tensor(native.softmax(this.handle, dim));
    opTracer?.record('softmax', y, [this], { dim });
    return y;
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(native.logSoftmax(this.handle, dim));
  }
}

function checkedShape(shape: readonly number[]): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape [${shape.join(', ')}]`);
  }
  return [...shape];
}

function inferDtype(data: TypedData | readonly number[]): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  return 'float32';
}

function packed(data: TypedData | readonly number[], dtype: DType): ArrayBufferView {
  if (!Array.isArray(data)) return data as TypedData;
  const values = data as readonly number[];
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case 'int32':
      return Int32Array.from(values);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values);
  }
}

/** Copies `data` into a new tensor; the shape defaults to 1-D. */
export function tensor(data: TypedData | readonly number[], shape?: readonly number[], dtype?: DType): Tensor {
  const type = dtype ?? inferDtype(data);
  const dims = checkedShape(shape ?? [data.length]);
  return new Tensor(native.fromTypedArray(packed(data, type), dims, type));
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor([value], [], dtype);
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(native.zeros(checkedShape(shape), dtype));
}
export function ones(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(native.ones(checkedShape(shape), dtype));
}
export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  return new Tensor(native.full(checkedShape(shape), value, dtype));
}
export function arange(start: number, end: number, step = 1, dtype: DType = 'float32'): Tensor {
  return new Tensor(native.arange(start, end, step, dtype));
}
export function rand(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(native.rand(checkedShape(shape), dtype));
}
export function randn(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return new Tensor(native.randn(checkedShape(shape), dtype));
}
/** Integers uniformly in [low, high), int64. */
export function randint(low: number, high: number, shape: readonly number[]): Tensor {
  return new Tensor(native.randint(low, high, checkedShape(shape)));
}
export function randperm(n: number): Tensor {
  return new Tensor(native.randperm(n));
}
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(tensors.map((t) => t.handle), dim));
}
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(tensors.map((t) => t.handle), dim));
}
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  return new Tensor(native.where(condition.handle, operand(a), operand(b)));
}

/** Runs `fn` without recording autograd history (evaluation, weight updates). */
export function noGrad<T>(fn: () => T): T {
  const before = native.isGradEnabled();
  native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(before);
  }
}

/** A new handle on the same storage, without history: how a Parameter adopts an initial value. */
export function detachedHandle(source: Tensor): NativeHandle {
  return native.detach(source.handle);
}

/** Count of native tensors alive: for tests and leak hunting. */
export function liveTensors(): number {
  return native.liveTensors();
}
