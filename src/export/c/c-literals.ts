/** C initialiser text for typed arrays; floats round-trip exactly to the same float32. */
import { ShapeError } from '../../errors.js';

export type CArrayType = 'float' | 'int32_t' | 'uint8_t' | 'int8_t';

/** Shortest decimal that parses back to the same float32, as a C float literal. */
export function floatLiteral(v: number, what: string): string {
  if (!Number.isFinite(v)) throw new ShapeError(`${what}: value ${v} cannot be written as a C constant`);
  if (v === 0) return Object.is(v, -0) ? '-0.0f' : '0.0f';
  let s = v.toPrecision(9);
  for (let p = 6; p < 9; p++) {
    const t = v.toPrecision(p);
    if (Math.fround(Number(t)) === v) {
      s = t;
      break;
    }
  }
  if (!/[.e]/.test(s)) s += '.0';
  return `${s}f`;
}

function lines(items: string[], perLine: number): string {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += perLine) out.push(`  ${items.slice(i, i + perLine).join(', ')},`);
  return out.join('\n');
}

/** `const <type> name[len] = {...};` (C has no empty arrays: an empty one holds a single 0). */
export function arrayDefinition(type: CArrayType, name: string, values: ArrayLike<number>, what: string): string {
  const items: string[] = [];
  if (type === 'float') for (let i = 0; i < values.length; i++) items.push(floatLiteral(values[i], what));
  else for (let i = 0; i < values.length; i++) items.push(String(values[i]));
  if (items.length === 0) items.push(type === 'float' ? '0.0f' : '0');
  return `const ${type} ${name}[${items.length}] = {\n${lines(items, type === 'float' ? 8 : 16)}\n};\n`;
}

export function arrayDeclaration(type: CArrayType, name: string, length: number): string {
  return `extern const ${type} ${name}[${Math.max(1, length)}];\n`;
}
