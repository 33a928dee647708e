import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface CpuFacts {
  model: string;
  cores: number;
  arch: string;
  /** Vector extensions dst's kernels can use, as the CPU reports them. */
  isa: string[];
}

function cpuFlags(): Set<string> {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l)) ?? '';
    return new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

export function cpuFacts(): CpuFacts {
  const flags = cpuFlags();
  const named: [string, boolean][] = [
    ['SSE4.2', flags.has('sse4_2')],
    ['AVX2', flags.has('avx2')],
    ['FMA', flags.has('fma')],
    ['AVX-512F', flags.has('avx512f')],
    ['NEON', flags.has('asimd') || flags.has('neon') || os.arch() === 'arm64'],
  ];
  return {
    model: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    arch: os.arch(),
    isa: named.filter(([, on]) => on).map(([name]) => name),
  };
}
