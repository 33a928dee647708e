/**
 * Deterministic memory: every tensor created inside `tidy(fn)` is freed when
 * `fn` returns, except the ones it returns (found in arrays, plain objects and
 * Maps) and the ones passed to `keep`. The native finalizer stays a safety net
 * only: V8 does not see native memory, so it would collect far too late.
 */
export interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

export function track(item: Disposable): void {
  scopes[scopes.length - 1]?.add(item);
}

/** Removes `item` from every open scope, so it outlives them; the caller disposes it. */
export function keep<T extends Disposable>(item: T): T {
  for (const scope of scopes) scope.delete(item);
  return item;
}

function collectReturned(value: unknown, scope: Set<Disposable>, found: Set<Disposable>, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (scope.has(value as Disposable)) {
    found.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectReturned(item, scope, found, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) collectReturned(item, scope, found, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectReturned(item, scope, found, seen);
  }
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const item of scope) item.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const item of scope) item.dispose();
    throw new TypeError('tidy() takes a synchronous function; await outside it');
  }
  const returned = new Set<Disposable>();
  collectReturned(result, scope, returned, new Set());
  for (const item of scope) {
    if (returned.has(item)) track(item);
    else item.dispose();
  }
  return result;
}
