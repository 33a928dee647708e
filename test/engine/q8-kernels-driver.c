/*
 * The int8 conv kernels against the scalar one (kernels/q8.h), outside the
 * engine: random tasks must give the same output bytes, and no byte outside
 * the block's valid lanes may change. Built natively for AVX2 and for
 * AArch64 (NEON, run under qemu) by test/engine/q8-kernels.test.ts.
 *
 *   q8-kernels-driver check TASKS SEED   random tasks, then TASKS / 4 random adds; prints "<n> tasks: <set> matches scalar bit for bit"
 *                                        (and, for a set with its own add, "<m> adds: <set> matches the portable add bit for bit")
 *   q8-kernels-driver digest TASKS SEED  the scalar kernel's outputs hashed, to compare builds of it (its SMLAD variant)
 *   q8-kernels-driver bench [SECONDS]    scalar vs SIMD conv16 on ResNet-20-like layers, side by side
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops_q8.h"
#include "q8.h"

#if defined(__x86_64__) || defined(_M_X64)
#define SIMD_NAME "avx2"
#define SIMD_SET dst_q8_avx2
static int simd_available(void) { return __builtin_cpu_supports("avx2"); }
#elif defined(__aarch64__)
#if defined(__ARM_FEATURE_DOTPROD)
#define SIMD_NAME "neon+dotprod"
#else
#define SIMD_NAME "neon"
#endif
#define SIMD_SET dst_q8_neon
static int simd_available(void) { return 1; }
#endif
/* elsewhere (32-bit Arm: the scalar kernel's SMLAD variant) only digest runs */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void) {
  uint64_t x = rng_state;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  rng_state = x;
  return x * 0x2545f4914f6cdd1du;
}

/* Uniform in [lo, hi]. */
static int64_t range(int64_t lo, int64_t hi) { return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo + 1)); }

#define MAX_N 1200
#define Y_BYTES (1 << 14)

static int8_t wbuf[(MAX_N / 2 + 1) * 32], y_ref[Y_BYTES];
static int32_t offbuf[MAX_N];

static void fill_codes(int8_t *p, size_t n, int lo, int hi) {
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)range(lo, hi);
}

/* A random task over the global buffers; t points into it, so it stays where it was made. */
typedef struct {
  dst_q8_task t;
  int32_t bias[16], mult[16], shift[16];
  int8_t *xmem;  /* the input, freed after the task */
  uint8_t fill; /* the output buffers' bytes before a run: none outside the valid lanes may change */
  size_t y_at, y_len; /* the task's output from y_ref/y_simd, and the bytes a run may reach */
} random_task;

static int make_task(random_task *r, int it) {
  /* geometry: a few output rows, pixel and row strides with slack, offsets anywhere in a window */
  const int ow = (int)range(1, 9), oh = (int)range(1, 5), npix = ow * oh;
  const ptrdiff_t x_col = range(1, 24), x_row = ow * x_col + range(0, 10);
  const int maxoff = (int)range(0, 400);
  const int extreme = range(0, 7) == 0; /* all codes -128 and all weights +-127: the largest sums */
  const int n = range(0, 99) == 0 ? 0 : extreme || range(0, 9) == 0 ? (int)range(1, MAX_N) : (int)range(1, 160); /* 0: the bias alone */
  /* entries and weight pairs end where their buffers do, so a sanitized build catches a read past either */
  int32_t *offs = offbuf + MAX_N - n;
  const int layout = (int)range(0, 2);
  if (layout == 0) {
    /* dense-like: runs of consecutive channels per tap, as a dense conv's entries are (even runs: every pair adjacent) */
    const int cin = (int)range(1, 20);
    for (int e = 0; e < n; e++) offs[e] = (int32_t)(((e / cin) * 7 + e % cin) % (maxoff + 1));
  } else if (layout == 1) {
    /* UHP-like: each pair two of a group of 4 or 8 channels, either order, groups a few bytes apart */
    const int m = range(0, 1) ? 4 : 8, step = (int)range(m, 3 * m);
    for (int e = 0; e < n; e += 2) {
      const int i = (int)range(0, m - 1), j = (i + (int)range(1, m - 1)) % m;
      offs[e] = (int32_t)((e / 2 * step + i) % (maxoff + 1));
      if (e + 1 < n) offs[e + 1] = (int32_t)((e / 2 * step + j) % (maxoff + 1));
    }
  } else {
    for (int e = 0; e < n; e++) offs[e] = (int32_t)range(0, maxoff);
  }
  /*
   * The input is exactly the bytes from the first pixel's lowest entry to
   * the last pixel's highest, in its own allocation, so a sanitized build
   * catches a read before or past it (AVX2's window loads may read between
   * a pixel's entries, never beyond them).
   */
  int32_t lo = 0, hi = 0;
  for (int e = 0; e < n; e++) {
    lo = e == 0 || offs[e] < lo ? offs[e] : lo;
    hi = e == 0 || offs[e] > hi ? offs[e] : hi;
  }
  for (int e = 0; e < n; e++) offs[e] -= lo;
  const size_t xlen = (size_t)((oh - 1) * x_row + (ow - 1) * x_col + (hi - lo) + 1);
  if (!(r->xmem = malloc(xlen))) {
    fprintf(stderr, "task %d: out of memory\n", it);
    return 1;
  }
  if (extreme) memset(r->xmem, 0x80, xlen);
  else fill_codes(r->xmem, xlen, -128, 127);
  const int8_t *x = r->xmem;
  const int pairs = (n + 1) / 2;
  int8_t *w = wbuf + sizeof wbuf - (size_t)pairs * 32;
  if (extreme) {
    const int8_t v = range(0, 1) ? 127 : -127;
    memset(w, v, (size_t)pairs * 32);
  } else {
    fill_codes(w, (size_t)pairs * 32, -127, 127);
  }
  if (n & 1)
    for (int l = 0; l < 16; l++) w[(size_t)(pairs - 1) * 32 + 2 * l + 1] = 0;
  const int lanes = range(0, 1) ? 16 : (int)range(1, 16);
  const ptrdiff_t y_pix = lanes + range(0, 5), y_row = ow * y_pix + range(0, 7);
  /*
   * biases anywhere, or small enough for AVX2's scaled sums (|sum| < 2^23),
   * or at that bound's edge: the largest bias the products still leave room for
   */
  const int bias_kind = (int)range(0, 2);
  const int64_t room = ((int64_t)1 << 23) - 1 - (int64_t)n * 128 * 127;
  for (int l = 0; l < 16; l++) {
    r->bias[l] = bias_kind == 0 ? (int32_t)range(-(1 << 24), 1 << 24)
                 : bias_kind == 1 ? (int32_t)range(-(1 << 15), 1 << 15)
                                  : (int32_t)(room > 0 ? (range(0, 1) ? room : -room) : range(-(1 << 24), 1 << 24));
    r->mult[l] = (int32_t)range(1 << 30, INT32_MAX);
    /* the shifts a file may hold (uhp-format.md): every factor below 1 */
    r->shift[l] = (int32_t)range(31, 62);
    if (l >= lanes && range(0, 1)) r->mult[l] = (int32_t)next_u64(), r->shift[l] = (int32_t)range(-5, 70); /* never used */
  }
  const int zq = (int)range(-128, 127);
  const int p0 = (int)range(0, npix), p1 = (int)range(p0, npix);
  r->fill = (uint8_t)range(0, 255);
  r->y_at = (size_t)range(0, 7);
  r->y_len = (size_t)((oh - 1) * y_row + ow * y_pix) + r->y_at + 16;
  if (r->y_len > sizeof y_ref) {
    fprintf(stderr, "task %d does not fit the output buffer\n", it);
    return 1;
  }
  const dst_q8_task t = {x, x_row, x_col, ow, p0, p1, y_ref + r->y_at, y_pix, y_row, lanes, zq, range(0, 1) ? zq : -128, r->bias, r->mult, r->shift, w, offs, n};
  r->t = t;
  memset(y_ref, r->fill, r->y_len);
  return 0;
}

#if defined(SIMD_SET)
static int8_t y_simd[Y_BYTES];

static int check(int tasks) {
  for (int it = 0; it < tasks; it++) {
    random_task r;
    if (make_task(&r, it)) return 1;
    dst_q8_scalar_conv16(&r.t);
    memset(y_simd, r.fill, r.y_len);
    r.t.y = y_simd + r.y_at;
    SIMD_SET.conv16(&r.t);
    free(r.xmem);
    if (memcmp(y_ref, y_simd, r.y_len)) {
      size_t i = 0;
      while (y_ref[i] == y_simd[i]) i++;
      const dst_q8_task *t = &r.t;
      fprintf(stderr, "task %d (n %d, lanes %d, pixels %d..%d, ow %d, zq %d, lo %d): byte %zu is %d, scalar gives %d\n", it, t->n, t->lanes, t->p0, t->p1, t->ow,
              t->zq, t->lo, i, y_simd[i], y_ref[i]);
      return 1;
    }
  }
  printf("%d tasks: %s matches scalar bit for bit\n", tasks, SIMD_NAME);
  return 0;
}

/*
 * The set's add (where it has one) against the portable dst_q8_add on random
 * adds: any zero points, multipliers and shifts a file may hold, lengths with
 * and without a tail, every code; no byte past n may change.
 */
static int check_add(int adds) {
  if (!SIMD_SET.add) return 0;
  static int8_t a[300], b[300], y_ref8[316], y_simd8[316];
  static int32_t lut[DST_Q8_ADD_LUT];
  for (int it = 0; it < adds; it++) {
    const size_t n = (size_t)range(0, 300);
    fill_codes(a, n, -128, 127);
    fill_codes(b, n, -128, 127);
    int32_t rq[6];
    for (int k = 0; k < 6; k += 2) rq[k] = (int32_t)range(1 << 30, INT32_MAX), rq[k + 1] = (int32_t)range(31, 62);
    const int za = (int)range(-128, 127), zb = (int)range(-128, 127), zo = (int)range(-128, 127), lo = range(0, 1) ? zo : -128;
    const uint8_t fill = (uint8_t)range(0, 255);
    memset(y_ref8, fill, sizeof y_ref8);
    memset(y_simd8, fill, sizeof y_simd8);
    dst_q8_add(a, b, n, za, zb, rq, zo, lo, lut, y_ref8);
    SIMD_SET.add(a, b, n, za, zb, rq, zo, lo, lut, y_simd8);
    if (memcmp(y_ref8, y_simd8, sizeof y_ref8)) {
      size_t i = 0;
      while (y_ref8[i] == y_simd8[i]) i++;
      fprintf(stderr, "add %d (n %zu, za %d, zb %d, zo %d, lo %d): byte %zu is %d, portable gives %d\n", it, n, za, zb, zo, lo, i, y_simd8[i], y_ref8[i]);
      return 1;
    }
  }
  printf("%d adds: %s matches the portable add bit for bit\n", adds, SIMD_NAME);
  return 0;
}
#endif

/* The scalar kernel's outputs over random tasks as one FNV-1a hash: equal across builds (generic C, SMLAD) when they compute the same. */
static int digest(int tasks) {
  uint32_t h = 2166136261u;
  for (int it = 0; it < tasks; it++) {
    random_task r;
    if (make_task(&r, it)) return 1;
    dst_q8_scalar_conv16(&r.t);
    free(r.xmem);
    for (size_t i = 0; i < r.y_len; i++) h = (h ^ (uint8_t)y_ref[i]) * 16777619u;
  }
  printf("%d tasks: scalar digest %08x\n", tasks, (unsigned)h);
  return 0;
}

#if defined(SIMD_SET)
/* One conv layer as the engine runs it: NHWC input with a 1-pixel zero border, 3x3 stride 1, blocks of 16 output channels. */
typedef struct {
  const char *name;
  int h, w, cin, cout;
  int keep2of4; /* 2:4 sparse: two of every four input channels per block (UHP, 16 sharing a mask) */
} shape;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void run_layer(const dst_q8_kernels *k, dst_q8_task *tasks, int blocks) {
  for (int b = 0; b < blocks; b++) k->conv16(&tasks[b]);
}

static int bench(double seconds) {
  static const shape shapes[] = {
      {"32x32x16->16 3x3 dense", 32, 32, 16, 16, 0},
      {"32x32x16->16 3x3 2:4", 32, 32, 16, 16, 1},
      {"16x16x32->32 3x3 dense", 16, 16, 32, 32, 0},
      {"16x16x32->32 3x3 2:4", 16, 16, 32, 32, 1},
      {"8x8x64->64 3x3 dense", 8, 8, 64, 64, 0},
      {"8x8x64->64 3x3 2:4", 8, 8, 64, 64, 1},
  };
  printf("%-26s %6s %12s %12s %8s\n", "layer", "MMAC", "scalar us", SIMD_NAME " us", "speed-up");
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    const shape *s = &shapes[si];
    const int wp = s->w + 2, blocks = s->cout / 16;
    static int8_t xin[34 * 34 * 64], yr[32 * 32 * 64], ys[32 * 32 * 64], wts[4][(9 * 64 / 2) * 32];
    static int32_t off[4][9 * 64], bias[64], req[4][32];
    fill_codes(xin, (size_t)(s->h + 2) * wp * s->cin, -128, 127);
    dst_q8_task tasks[4];
    int n = 0;
    for (int b = 0; b < blocks; b++) {
      n = 0;
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
          for (int c = 0; c < s->cin; c += 4) {
            /* 2:4 keeps one of the six pairs of each group of four channels, per tap and block */
            static const int8_t kept[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
            const int pick = (int)range(0, 5);
            for (int j = 0; j < 4; j++)
              if (!s->keep2of4 || j == kept[pick][0] || j == kept[pick][1]) off[b][n++] = ky * wp * s->cin + kx * s->cin + c + j;
          }
      fill_codes(wts[b], (size_t)(n + 1) / 2 * 32, -127, 127);
      for (int l = 0; l < 16; l++) {
        bias[b * 16 + l] = (int32_t)range(-5000, 5000);
        req[b][l] = (int32_t)range(1 << 30, INT32_MAX);
        req[b][16 + l] = (int32_t)range(38, 42);
      }
      tasks[b] = (dst_q8_task){xin, (ptrdiff_t)wp * s->cin, s->cin, s->w, 0, s->h * s->w, NULL, s->cout, (ptrdiff_t)s->w * s->cout, 16, -3, -3,
                               bias + b * 16, req[b], req[b] + 16, wts[b], off[b], n};
    }
    double tr[400], ts[400];
    int runs = 0;
    const double t_end = now() + seconds;
    /* alternate the two kernels run by run so both see the same machine load */
    while (runs < 400 && (runs < 20 || now() < t_end)) {
      for (int b = 0; b < blocks; b++) tasks[b].y = yr + b * 16;
      double t0 = now();
      run_layer(&dst_q8_scalar, tasks, blocks);
      tr[runs] = now() - t0;
      for (int b = 0; b < blocks; b++) tasks[b].y = ys + b * 16;
      t0 = now();
      run_layer(&SIMD_SET, tasks, blocks);
      ts[runs] = now() - t0;
      runs++;
    }
    if (memcmp(yr, ys, (size_t)s->h * s->w * s->cout)) {
      fprintf(stderr, "%s: outputs differ\n", s->name);
      return 1;
    }
    qsort(tr, (size_t)runs, sizeof tr[0], cmp_double);
    qsort(ts, (size_t)runs, sizeof ts[0], cmp_double);
    const double mmac = (double)s->h * s->w * 16 * n * blocks * 1e-6, r = tr[runs / 2] * 1e6, v = ts[runs / 2] * 1e6;
    printf("%-26s %6.2f %12.1f %12.1f %7.2fx\n", s->name, mmac, r, v, r / v);
  }
  return 0;
}

#endif

int main(int argc, char **argv) {
  if (argc >= 4) {
    rng_state ^= strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15u;
    if (!rng_state) rng_state = 1;
  }
  if (argc >= 4 && !strcmp(argv[1], "digest")) return digest(atoi(argv[2]));
#if defined(SIMD_SET)
  if (!simd_available()) {
    printf("skipped: this CPU has no %s\n", SIMD_NAME);
    return 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "check")) return check(atoi(argv[2])) || check_add(atoi(argv[2]) / 4);
  if (argc >= 2 && !strcmp(argv[1], "bench")) return bench(argc >= 3 ? atof(argv[2]) : 1.0);
#endif
  fprintf(stderr, "usage: %s check TASKS SEED | digest TASKS SEED | bench [SECONDS]\n", argv[0]);
  return 2;
}
