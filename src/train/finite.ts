import type { TypedData } from '../torch/tensor.js';

/** The name of the first floating-point tensor holding a NaN or an infinity, if any. */
export function firstNonFiniteTensor(tensors: Iterable<readonly [string, { data(): TypedData } | { data: TypedData }]>): string | undefined {
  for (const [name, t] of tensors) {
    const values = typeof t.data === 'function' ? t.data() : t.data;
    if (!(values instanceof Float32Array || values instanceof Float64Array)) continue;
    if (!values.every(Number.isFinite)) return name;
  }
  return undefined;
}
