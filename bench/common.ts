import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuFacts } from '../src/cli/cpu.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export { median } from '../src/bench/measure.js';

export function machineLine(): string {
  const cpu = cpuFacts();
  return `CPU: ${cpu.model} (${cpu.cores} cores, ${cpu.isa.join(' ')}), node ${process.version}`;
}

/** Compiles a C++ reference program against the same LibTorch the addon links, once per source change. */
export function buildTorchProgram(source: string, name: string): string {
  const out = path.join(repoRoot, 'build', 'bench', name);
  if (existsSync(out) && statSync(out).mtimeMs > statSync(source).mtimeMs) return out;
  mkdirSync(path.dirname(out), { recursive: true });
  const libtorch = process.env.LIBTORCH;
  const include = libtorch ? [`-I${libtorch}/include`, `-I${libtorch}/include/torch/csrc/api/include`] : ['-I/usr/include/torch/csrc/api/include'];
  const link = libtorch ? [`-L${libtorch}/lib`, `-Wl,-rpath,${libtorch}/lib`] : [];
  execFileSync('g++', ['-O2', '-std=c++17', ...include, source, '-o', out, ...link, '-ltorch', '-ltorch_cpu', '-lc10'], { stdio: 'inherit' });
  return out;
}
