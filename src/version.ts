import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dst's own version, from the package manifest two levels above src/ or dist/. */
export const dstVersion: string = (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
