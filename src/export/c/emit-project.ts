/**
 * The build and driver files of a generated project (Makefile, programs,
 * Cortex-M start-up, linker scripts), copied from native/project where they
 * are plain C and Make, and the README written for the export.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DstError } from '../../errors.js';
import { MARKER } from './emit-model.js';
import { nativeDir } from './kernel-sources.js';
import type { CTarget } from './targets.js';

/** Project path and its file in native/project; the hosted program keeps the name main.c. */
const TEMPLATES: [string, string][] = [
  ['Makefile', 'Makefile'],
  ['main.c', 'main_host.c'],
  ['main_bare.c', 'main_bare.c'],
  ['main_qemu.c', 'main_qemu.c'],
  ['semihost.c', 'semihost.c'],
  ['semihost.h', 'semihost.h'],
  ['icount.h', 'icount.h'],
  ['startup_cortex_m.c', 'startup_cortex_m.c'],
  ['cortex-m.ld', 'cortex-m.ld'],
  ['mps2-an500.ld', 'mps2-an500.ld'],
];

function readTemplate(name: string): string {
  const file = path.join(nativeDir('project'), name);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DstError('E_NATIVE', `cannot read project file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const DEFAULT_TARGET = /^TARGET \?= generic$/m;

/** The Makefile, building `target` when make is run without TARGET=. */
export function makefile(target: CTarget): string {
  const text = readTemplate('Makefile');
  if (!DEFAULT_TARGET.test(text)) throw new DstError('E_NATIVE', 'native/project/Makefile has no "TARGET ?= generic" line');
  return text.replace(DEFAULT_TARGET, `TARGET ?= ${target}`);
}

/** Every build and driver file of a project, keyed by path relative to the project folder. */
export function projectFiles(target: CTarget): Map<string, string> {
  return new Map(TEMPLATES.map(([rel, name]) => [rel, rel === 'Makefile' ? makefile(target) : readTemplate(name)]));
}

export interface ReadmeFacts {
  target: CTarget;
  inputShape: number[];
  netShape: number[];
  outputSize: number;
  weightBytes: number;
  arenaBytes: number;
  scratchBytes: number;
  layers: { name: string; path: string; pattern: string }[];
  kernelFiles: string[];
  /** Microcontroller plan: UHP pattern indices expanded at run time. */
  compact: boolean;
  /** An int8 model: integer inference, and dst_model_run_q8. */
  int8: boolean;
}

export function readme(f: ReadmeFacts): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  return `# Generated C model

${MARKER}, target \`${f.target}\`. Plain C99, no allocation, no dependency beyond
libc and \`math.h\`. \`model.c\` and \`weights.c\` are the plan dst's engine made
for this target, as const tables (each layer's kernel, fusions, zero borders,
arena offsets, packed weights); \`runtime/\` (the layer loop that runs them)
and \`kernels/\` are copied unchanged from the engine (\`native/engine\`).

## API (\`model.h\`)

\`\`\`c
int dst_model_run(const float *input, float *scores);      /* [${f.inputShape.join(', ')}] CHW floats */
void dst_model_run_u8(const uint8_t *input, float *scores); /* the same as 8-bit pixels, /255 first */
\`\`\`

\`dst_model_run\` returns 0, or -1 without touching the scores when the image
holds a NaN or an infinity (dst's engine refuses those too).
${
    f.int8
      ? `
An int8 model (\`DST_MODEL_INT8\`): every layer runs on 8-bit codes and
32-bit sums, bit for bit as dst's engine does on every CPU, and both
functions return the scores dequantized. Integer-only end to end:

\`\`\`c
void dst_model_run_q8(const uint8_t *input, int8_t *scores); /* 8-bit pixels in, int8 codes out */
\`\`\`

turns pixels into codes through a per-channel table and returns the output
codes; a score's real value is \`(code - DST_MODEL_OUTPUT_ZERO_POINT) *
DST_MODEL_OUTPUT_SCALE\`, and the class is the largest code. On cores with the
DSP extension (Cortex-M4, M7, M33) the conv kernel multiplies two pairs per
instruction (\`SMLAD\`).
`
      : ''
  }
Both crop the centre [${f.netShape.join(', ')}] window and apply the training
run's mean/std, then write ${f.outputSize} scores. The model keeps its
activations in one static arena (${kb(f.arenaBytes)}) plus ${kb(f.scratchBytes)} of
pattern-index scratch, so it is not re-entrant. Const weight data:
${kb(f.weightBytes)} (flash on a microcontroller).

## Build

| target | command | notes |
|---|---|---|
| host, portable C | \`make TARGET=generic\` | scalar kernels, any CPU |
| x86-64 with AVX2 + FMA | \`make TARGET=avx2\` | needs \`kernels/k_avx2.c\` (export with \`--target avx2\`) |
| AArch64 (NEON) | \`make TARGET=neon\` | on x86 uses \`aarch64-linux-gnu-gcc\`, links statically: \`qemu-aarch64 build/neon/model image.raw\` |
| Cortex-M7 | \`make TARGET=cortex-m\` | \`arm-none-eabi-gcc\`, \`--specs=nosys.specs\`; \`make TARGET=cortex-m size\` prints flash and RAM |
| Cortex-M7 under QEMU | \`make TARGET=qemu-m7 run IMAGE=image.raw\` | QEMU's \`mps2-an500\` board (\`qemu-system-arm\`): the scores and the instructions one inference executes |

\`make\` alone builds \`${f.target}\` with \`-O3\` (at \`-O2\` the kernels' tiles do not unroll and run up to 1.7x slower); \`OPT=-Os\` trades speed for flash; \`CC=...\`
picks another compiler. Every file builds with \`-std=c99 -Wall -Wextra -Werror\`.

Host targets build \`build/<target>/model IMAGE [RUNS]\` from \`main.c\` (\`make run
IMAGE=...\` runs it): IMAGE is a raw CHW file of ${f.inputShape.join('x')} float32
(little-endian) or 8-bit values, told apart by size; the program prints
\`class score\` per line, and with RUNS the median latency over RUNS runs to
stderr.

### Cortex-M

\`startup_cortex_m.c\` (vector table, .data/.bss set-up, FPU on) and
\`cortex-m.ld\` (2 MiB flash at 0x08000000, 1 MiB RAM at 0x24000000, an
STM32H7-class map) are a minimal bare-metal frame: edit the MEMORY lines for
your part, or drop both and add \`model.c\`, \`weights.c\`, \`runtime/*.c\` and
\`kernels/*.c\` to your vendor project (include paths \`.\` and \`runtime\`,
and \`-DDST_BARE_METAL\`). \`main_bare.c\` holds the image as 8-bit pixels and
calls \`dst_model_run_u8\`: your code fills \`image\` before the run, and a
float source calls \`dst_model_run\` instead. Another core: \`make TARGET=cortex-m MCU="-mcpu=cortex-m4
-mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"\`. Put the arena in fast RAM
(DTCM) if it fits; the weights are read once per inference from flash.

### Cortex-M7 under QEMU

\`make TARGET=qemu-m7 run IMAGE=image.raw\` builds \`main_qemu.c\` with the same
start-up, \`semihost.c\` and \`mps2-an500.ld\` (4 MiB SSRAM1 at 0 for code and
weights, 4 MiB SSRAM2/3 at 0x20000000 for data and stack) and runs it under
\`qemu-system-arm -machine mps2-an500 -cpu cortex-m7 -icount shift=0\`. The
program reads IMAGE through ARM semihosting (it is the last \`arg=\` of
\`-semihosting-config\`, so its path may hold no spaces or commas), prints the
scores as the host program does, then \`instructions N\`, and ends QEMU with
status 0, or non-zero on an error or a fault.

N counts executed **instructions, not cycles**: with \`-icount shift=0\` QEMU's
virtual clock advances 1 ns per instruction, and the program reads the
board's 25 MHz timer0 before and after the inference (\`icount.h\`), so N is
exact to one tick, 40 instructions, and repeats from run to run. QEMU models
no pipeline, caches or flash wait states.

## Layers

| layer | kernel | pattern |
|---|---|---|
${f.layers.map((l) => `| ${l.name} | ${l.path} | ${l.pattern} |`).join('\n')}

${f.compact ? `UHP layers store only the kept weights and the bit-packed pattern index of
each group (as in a \`.uhp\` file); the run-time expands one output block's
indices into kernel offsets just before its kernel call.` : `UHP layers store the kept weights with their input offsets, packed as the
engine packs them on this kind of CPU.`}

Run-time files: ${f.kernelFiles.map((k) => `\`${k}\``).join(', ')}.
`;
}
