/** The build and driver files of a generated project: Makefile, main.c, Cortex-M start-up and linker script, README. */
import { MARKER } from './emit-model.js';
import type { CTarget } from './targets.js';

export function makefile(target: CTarget): string {
  return `# ${MARKER}: make [TARGET=generic|avx2|neon|cortex-m] [OPT=-O3] [CC=...]; see README.md.
TARGET ?= ${target}
# The engine's own level: the kernels' tile loops need it to unroll into registers.
OPT ?= -O3
WARN = -std=c99 -Wall -Wextra -Werror
SRCS = model.c weights.c kernels/ops.c kernels/k_scalar.c main.c
BUILD = build/$(TARGET)
BIN = $(BUILD)/model
LDLIBS = -lm
SIZE ?= size

ifeq ($(TARGET),avx2)
  ifeq ($(wildcard kernels/k_avx2.c),)
    $(error this export has no AVX2 kernels: export again with --target avx2)
  endif
  SRCS += kernels/k_avx2.c
  DEFS = -DDST_KERNELS_AVX2
else ifeq ($(TARGET),neon)
  ifeq ($(wildcard kernels/k_neon.c),)
    $(error this export has no NEON kernels: export again with --target neon)
  endif
  ifneq ($(shell uname -m),aarch64)
    ifeq ($(origin CC),default)
      CC = aarch64-linux-gnu-gcc
    endif
    LDFLAGS += -static
  endif
  SRCS += kernels/k_neon.c
  DEFS = -DDST_KERNELS_NEON
else ifeq ($(TARGET),cortex-m)
  ifeq ($(origin CC),default)
    CC = arm-none-eabi-gcc
  endif
  SIZE = arm-none-eabi-size
  MCU ?= -mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard
  DEFS = -DDST_BARE_METAL $(MCU) -ffunction-sections -fdata-sections
  SRCS += startup_cortex_m.c
  LDFLAGS += $(MCU) --specs=nosys.specs -nostartfiles -T cortex-m.ld -Wl,--gc-sections
  BIN = $(BUILD)/model.elf
else ifneq ($(TARGET),generic)
  $(error TARGET must be generic, avx2, neon or cortex-m)
endif

OBJS = $(SRCS:%.c=$(BUILD)/%.o)

all: $(BIN)

$(BIN): $(OBJS)
\t$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/%.o: %.c model.h weights.h kernels/kernels.h kernels/ops.h
\t@mkdir -p $(dir $@)
\t$(CC) $(WARN) $(OPT) $(DEFS) $(CFLAGS) -c -o $@ $<

objects: $(OBJS)

size: $(BIN)
\t$(SIZE) -A $(BIN)

clean:
\trm -rf build

.PHONY: all objects size clean
`;
}

export const MAIN_C = `/* ${MARKER}: runs the model once on an image file and prints the scores (hosted), or once at reset (bare metal). */
#if defined(DST_BARE_METAL)
#include "model.h"

/*
 * Filled by the application (camera, sensor, link) before the run. 8-bit
 * pixels, as sensors deliver them, take a quarter of a float image's RAM;
 * an application with float data passes it to dst_model_run instead.
 */
static uint8_t image[DST_MODEL_INPUT_SIZE];
static float scores[DST_MODEL_OUTPUT_SIZE];
volatile int dst_top_class;

int main(void) {
  dst_model_run_u8(image, scores);
  int best = 0;
  for (int i = 1; i < DST_MODEL_OUTPUT_SIZE; i++)
    if (scores[i] > scores[best]) best = i;
  dst_top_class = best;
  return 0;
}
#else
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"

#define MAX_RUNS 10000

static unsigned char bytes[(size_t)DST_MODEL_INPUT_SIZE * 4 + 1];
static float image[DST_MODEL_INPUT_SIZE];
static float scores[DST_MODEL_OUTPUT_SIZE];
static double times[MAX_RUNS];

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void run_once(int is_u8) {
  if (is_u8) dst_model_run_u8(bytes, scores);
  else dst_model_run(image, scores);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s IMAGE [RUNS]\\n"
                    "  IMAGE: raw [%d, %d, %d] CHW pixels, float32 little-endian (%d bytes) or 8-bit (%d bytes)\\n"
                    "  RUNS: run that many times after one warm-up and print the median latency to stderr\\n",
            argv[0], DST_MODEL_INPUT_C, DST_MODEL_INPUT_H, DST_MODEL_INPUT_W, DST_MODEL_INPUT_SIZE * 4, DST_MODEL_INPUT_SIZE);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  const size_t n = fread(bytes, 1, sizeof bytes, f);
  fclose(f);
  int is_u8;
  if (n == (size_t)DST_MODEL_INPUT_SIZE * 4) {
    is_u8 = 0;
    memcpy(image, bytes, sizeof image);
  } else if (n == (size_t)DST_MODEL_INPUT_SIZE) {
    is_u8 = 1;
  } else {
    fprintf(stderr, "%s: %lu bytes; [%d, %d, %d] needs %d (float32) or %d (8-bit)\\n", argv[1], (unsigned long)n,
            DST_MODEL_INPUT_C, DST_MODEL_INPUT_H, DST_MODEL_INPUT_W, DST_MODEL_INPUT_SIZE * 4, DST_MODEL_INPUT_SIZE);
    return 1;
  }
  const int runs = argc == 3 ? atoi(argv[2]) : 0;
  if (argc == 3 && (runs < 1 || runs > MAX_RUNS)) {
    fprintf(stderr, "RUNS must be 1..%d\\n", MAX_RUNS);
    return 2;
  }
  run_once(is_u8);
  for (int r = 0; r < runs; r++) {
    const double t0 = now_us();
    run_once(is_u8);
    times[r] = now_us() - t0;
  }
  for (int i = 0; i < DST_MODEL_OUTPUT_SIZE; i++) printf("%d %.9g\\n", i, scores[i]);
  if (runs > 0) {
    qsort(times, (size_t)runs, sizeof times[0], by_value);
    fprintf(stderr, "median %.3f us over %d runs\\n", times[runs / 2], runs);
  }
  return 0;
}
#endif
`;

export const STARTUP_C = `/* ${MARKER}: minimal Cortex-M start-up: vector table, .data copy, .bss clear, FPU on, main. */
#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void dst_reset(void);
void dst_default_handler(void);

typedef void (*dst_vector)(void);

__attribute__((section(".isr_vector"), used)) const dst_vector dst_vectors[16] = {
  (dst_vector)_estack, dst_reset, dst_default_handler, dst_default_handler,
  dst_default_handler, dst_default_handler, dst_default_handler, 0,
  0, 0, 0, dst_default_handler,
  dst_default_handler, 0, dst_default_handler, dst_default_handler,
};

void dst_reset(void) {
  uint32_t *src = _sidata, *dst = _sdata;
  while (dst < _edata) *dst++ = *src++;
  for (dst = _sbss; dst < _ebss;) *dst++ = 0;
  /* CPACR: full access to CP10/CP11, so the hard-float code that follows may run. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\\n\\tisb" ::: "memory");
  (void)main();
  for (;;) {
  }
}

void dst_default_handler(void) {
  for (;;) {
  }
}
`;

/* An STM32H7-class memory map; the README says where to change it. */
export const LINKER_SCRIPT = `/* ${MARKER}: flash and RAM of the target; edit ORIGIN/LENGTH for your part. */
ENTRY(dst_reset)

MEMORY
{
  FLASH (rx)  : ORIGIN = 0x08000000, LENGTH = 2048K
  RAM   (rwx) : ORIGIN = 0x24000000, LENGTH = 1024K
}

_estack = ORIGIN(RAM) + LENGTH(RAM);

SECTIONS
{
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.glue_7) *(.glue_7t) . = ALIGN(4); } > FLASH
  .rodata : { *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; } > RAM
  end = .;
}
`;

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
}

export function readme(f: ReadmeFacts): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  return `# Generated C model

${MARKER}, target \`${f.target}\`. Plain C99, no allocation, no dependency beyond
libc and \`math.h\`; the kernels in \`kernels/\` are copied unchanged from dst's
engine (\`native/engine\`).

## API (\`model.h\`)

\`\`\`c
void dst_model_run(const float *input, float *scores);     /* [${f.inputShape.join(', ')}] CHW floats */
void dst_model_run_u8(const uint8_t *input, float *scores); /* the same as 8-bit pixels, /255 first */
\`\`\`

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

\`make\` alone builds \`${f.target}\` with \`-O3\` (at \`-O2\` the kernels' tiles do not unroll and run up to 1.7x slower); \`OPT=-Os\` trades speed for flash; \`CC=...\`
picks another compiler. Every file builds with \`-std=c99 -Wall -Wextra -Werror\`.

Host targets build \`build/<target>/model IMAGE [RUNS]\`: IMAGE is a raw CHW
file of ${f.inputShape.join('x')} float32 (little-endian) or 8-bit values, told apart by
size; the program prints \`class score\` per line, and with RUNS the median
latency over RUNS runs to stderr.

### Cortex-M

\`startup_cortex_m.c\` (vector table, .data/.bss set-up, FPU on) and
\`cortex-m.ld\` (2 MiB flash at 0x08000000, 1 MiB RAM at 0x24000000, an
STM32H7-class map) are a minimal bare-metal frame: edit the MEMORY lines for
your part, or drop both and add \`model.c\`, \`weights.c\` and \`kernels/*.c\` to
your vendor project. \`main.c\` there holds the image as 8-bit pixels and
calls \`dst_model_run_u8\`: your code fills \`image\` before the run, and a
float source calls \`dst_model_run\` instead. Another core: \`make TARGET=cortex-m MCU="-mcpu=cortex-m4
-mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"\`. Put the arena in fast RAM
(DTCM) if it fits; the weights are read once per inference from flash.

## Layers

| layer | kernel | pattern |
|---|---|---|
${f.layers.map((l) => `| ${l.name} | ${l.path} | ${l.pattern} |`).join('\n')}

UHP layers store only the kept weights and the bit-packed pattern index of
each group (as in a \`.uhp\` file); the code expands one output block's
indices into kernel offsets just before its kernel call.

Kernel files: ${f.kernelFiles.map((k) => `\`${k}\``).join(', ')}.
`;
}
