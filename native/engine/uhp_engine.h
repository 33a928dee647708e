/* dst UHP inference engine: public C API. Portable C11, no allocation per inference. */
#ifndef DST_UHP_ENGINE_H
#define DST_UHP_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum dst_isa { DST_ISA_AUTO = -1, DST_ISA_SCALAR = 0, DST_ISA_AVX2 = 1, DST_ISA_AVX512 = 2, DST_ISA_NEON = 3 };
#define DST_ISA_COUNT 4

typedef struct dst_engine dst_engine;

/* 1 when this build and this CPU can run `isa`. */
int dst_isa_available(int isa);
/* "scalar", "avx2", "avx512", "neon"; NULL for an unknown value. */
const char *dst_isa_name(int isa);
/* The best available ISA. */
int dst_isa_best(void);

/*
 * Validates a .uhp file held in memory and plans it: packed weights, one
 * arena for all activations and scratch, `threads` workers (>= 1). The bytes
 * are not referenced after return. On failure returns NULL and writes one
 * line into err.
 */
dst_engine *dst_engine_load(const uint8_t *bytes, size_t len, int isa, int threads, char *err, size_t errlen);

/*
 * The same, planned for another target than this CPU, as the C exporter
 * needs (plan.h: dst_target): DST_TARGET_COMPACT packs for a microcontroller,
 * DST_TARGET_NO_ROWS8 plans for a kernel set without rows8 (NEON). 0 is
 * dst_engine_load.
 */
enum { DST_TARGET_COMPACT = 1, DST_TARGET_NO_ROWS8 = 2 };
dst_engine *dst_engine_load_target(const uint8_t *bytes, size_t len, int isa, int threads, int flags, char *err, size_t errlen);

/*
 * Who runs an image when threads > 1: the pool always (the default, so
 * results and timing do not depend on history), the caller alone, or auto:
 * whichever ran recent images faster, measured as the engine runs.
 */
enum dst_schedule { DST_SCHEDULE_POOL = 0, DST_SCHEDULE_CALLER = 1, DST_SCHEDULE_AUTO = 2 };
#define DST_SCHEDULE_DEFAULT DST_SCHEDULE_POOL
/* Returns 0, or -1 for an unknown schedule. */
int dst_engine_set_schedule(dst_engine *e, int schedule);
int dst_engine_schedule(const dst_engine *e);

/* The plan the engine runs, and the lengths of node i's packed arrays (NULL for a bad index): what the C exporter serialises. */
struct dst_plan;
struct dst_pack_counts;
const struct dst_plan *dst_engine_plan(const dst_engine *e);
const struct dst_pack_counts *dst_engine_pack_counts(const dst_engine *e, int i);

/*
 * Runs `batch` images: in holds batch * input_size floats, out batch *
 * output_size. Returns 0, or b + 1 when image b holds a NaN or an infinity,
 * which no kernel set runs (images before it are done).
 */
int dst_engine_run(dst_engine *e, const float *in, float *out, int batch);

/* Starts or stops workers; returns 0, or -1 with err set. */
int dst_engine_set_threads(dst_engine *e, int threads, char *err, size_t errlen);

int dst_engine_threads(const dst_engine *e);
int dst_engine_isa(const dst_engine *e);
size_t dst_engine_input_size(const dst_engine *e);
size_t dst_engine_output_size(const dst_engine *e);
/* Shape of what run() reads per image ([C, H0, W0]) and writes ([C, H, W] or [F]). */
int dst_engine_input_shape(const dst_engine *e, int shape[3]);
int dst_engine_output_shape(const dst_engine *e, int shape[3]);
/* Bytes of the arena and packed weights, for reports. */
size_t dst_engine_memory(const dst_engine *e);

/*
 * Per-layer timing. While on, run() adds each graph node's wall time (ms)
 * into a per-node total; turning it on zeroes the totals. A convolution that
 * runs in bands with the pooling after it carries the pooling's time too.
 */
void dst_engine_profile(dst_engine *e, int on);
int dst_engine_node_count(const dst_engine *e);
/* Milliseconds node i has taken since profiling was turned on. */
double dst_engine_node_ms(const dst_engine *e, int i);
/* Node i's kernel: "dense16", "sparse16", "sparse8", "gather8", "rows8", "csr", "depthwise", "grouped", or its op ("relu", "add", ...). */
const char *dst_engine_node_kernel(const dst_engine *e, int i);
/* Multiply-adds node i's kernel performs per image (0 for ops without weights): a UHP layer run dense counts all of them. */
long dst_engine_node_macs(const dst_engine *e, int i);
/* 1 when node i runs inside the convolution before it, in its bands (a pooling) or its stores (an add); its time is counted there. */
int dst_engine_node_fused(const dst_engine *e, int i);

void dst_engine_free(dst_engine *e);

#ifdef __cplusplus
}
#endif
#endif
