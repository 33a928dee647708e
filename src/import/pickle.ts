/**
 * A restricted unpickler for PyTorch state dicts. Python's pickle runs
 * whatever callables a file names; this one knows only the opcodes a state
 * dict is written with and calls only the globals its caller allows, each
 * implemented here in TypeScript. Anything else stops it with one line naming
 * the opcode or global: it never executes code from the file.
 */
import { FormatError } from '../errors.js';

/** A Python global the file names (`module.name`), as the caller's `globals` resolved it. */
export interface PyGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
  /** What REDUCE does with it; undefined for globals that are only markers (storage types). */
  readonly call?: (args: PyValue[]) => PyValue;
}

/** A value the caller built: persistent loads and global calls return these. */
export interface PyObject {
  readonly kind: 'object';
  readonly value: unknown;
}

export type PyValue = null | boolean | number | bigint | string | PyValue[] | Map<PyValue, PyValue> | PyGlobal | PyObject;

export interface UnpickleOptions {
  /** Name of the pickle for messages, e.g. `model.pth:archive/data.pkl`. */
  source: string;
  /** The allowed globals: returns undefined to refuse `module.name`. */
  globals: (module: string, name: string) => PyGlobal | undefined;
  /** BINPERSID: turns a persistent id (for torch, a storage reference) into a value. */
  persistentLoad: (pid: PyValue) => PyValue;
}

/** Every pickle opcode by byte, so a refusal names what it refused. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Two's-complement little-endian integer of LONG1, as a number when it is safe, else a bigint. */
function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

export function unpickle(data: Uint8Array, options: UnpickleOptions): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let at = 0;
  let opAt = 0;

  const fail = (detail: string): never => {
    throw new FormatError(options.source, `${detail} at byte ${opAt}`);
  };
  const need = (n: number): number => {
    if (at + n > data.length) fail('pickle ends early');
    const start = at;
    at += n;
    return start;
  };
  const u8 = (): number => data[need(1)]!;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const text = (n: number): string => {
    const start = need(n);
    try {
      return decoder.decode(data.subarray(start, start + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, at);
    if (end < 0) fail('GLOBAL name is not terminated');
    return text(end - at + 1).slice(0, -1);
  };
  const pop = (): PyValue => {
    const item = stack.pop();
    if (item === undefined || item === MARK) return fail('stack underflow');
    return item;
  };
  const top = (): PyValue => {
    const item = stack[stack.length - 1];
    if (item === undefined || item === MARK) return fail('stack underflow');
    return item;
  };
  const popToMark = (): PyValue[] => {
    const mark = marks.pop();
    if (mark === undefined) return fail('no MARK before this opcode');
    return stack.splice(mark).slice(1) as PyValue[];
  };
  const resolveGlobal = (module: string, name: string): PyGlobal =>
    options.globals(module, name) ?? fail(`global ${module}.${name} is not allowed in a state dict (refused, nothing was executed)`);
  const memoGet = (index: number): PyValue => (memo.has(index) ? memo.get(index)! : fail(`memo entry ${index} was never stored`));
  const dictOf = (target: PyValue): Map<PyValue, PyValue> => (target instanceof Map ? target : fail('SETITEM on something that is not a dict'));
  const listOf = (target: PyValue): PyValue[] => (Array.isArray(target) ? target : fail('APPEND on something that is not a list'));
  const setItems = (dict: Map<PyValue, PyValue>, items: PyValue[]): void => {
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
  };

  for (;;) {
    opAt = at;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length prefix for buffered reading; the frame's opcodes follow inline.
        need(8);
        break;
      case 0x2e: // STOP
        if (marks.length > 0 || stack.length !== 1) fail('STOP with a malformed stack');
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: {
        // LONG1
        const n = u8();
        const start = need(n);
        stack.push(decodeLong(data.subarray(start, start + n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x74: // TUPLE
        stack.push(popToMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        dictOf(top()).set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popToMark();
        setItems(dictOf(top()), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        listOf(top()).push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popToMark();
        listOf(top()).push(...items);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without a module and name');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args)) fail('REDUCE without an argument tuple');
        if (typeof callable !== 'object' || callable === null || !('kind' in callable) || callable.kind !== 'global' || callable.call === undefined) {
          fail('REDUCE of something that is not an allowed callable');
        }
        stack.push((callable as PyGlobal).call!(args as PyValue[]));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(options.persistentLoad(pop()));
        break;
      case 0x62: {
        // BUILD: OrderedDict state dicts carry `_metadata` (per-module versions) as instance state; dst has no use for it.
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map || state === null)) fail('BUILD is allowed only on a dict');
        break;
      }
      default:
        fail(`opcode ${OPCODE_NAMES[op] ?? 'unknown'} (0x${op.toString(16).padStart(2, '0')}) is not allowed in a state dict (refused, nothing was executed)`);
    }
  }
}
