/*
 * AVX2 int8 conv kernel (q8.h): 16 output channels as int32 in two ymm per
 * pixel, P pixels per tile. A weight pair is one vpmaddwd per 8 lanes: the
 * pixel's two codes as one broadcast dword of int16s times the pair's weights
 * sign-extended to int16. Both are int8, so a product is at most 2^14 and
 * the pair sum cannot saturate (vpmaddwd saturates only two (-2^15)^2
 * products; codes scaled by 256 reach -2^15, weights never do): every result
 * equals the scalar kernel's.
 * AVX2 is enabled per function (target attribute), so the rest of the addon
 * builds without -mavx2; the engine only picks this set on a CPU with AVX2.
 */
#include <string.h>

#include "q8.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define TGT __attribute__((target("avx2")))
#define INL static inline __attribute__((always_inline)) TGT

/* Most pixels per tile: 12 accumulators, two weight registers and a broadcast fill the 16 ymm. */
#define PMAX 6

/*
 * Requantization constants, per half h of the block (lanes 8h .. 8h + 7) and
 * parity k (even lanes in the low dwords, odd lanes moved there), as 64-bit
 * lanes for vpmuldq and vpsrlvq. AVX2 has no 64-bit arithmetic shift, so
 * R = (v + 2^63) >>> s - 2^63 >>> s with v = acc * mult + 2^(s - 1): adding
 * 2^63 maps [-2^63, 2^63) onto [0, 2^64) in order and 2^63 >>> s removes it
 * again exactly (s >= 1). The output zero point is folded into that last
 * term; its low dword is the scalar's int32 wrap of zq + R.
 */
typedef struct {
  __m256i mult[2][2], shift[2][2], round[2][2], base[2][2];
  __m256i lo, hi;
} q8_requant;

INL void requant_init(const dst_q8_task *t, q8_requant *r) {
  const __m256i one = _mm256_set1_epi64x(1), top = _mm256_set1_epi64x(INT64_MIN), zq = _mm256_set1_epi64x(t->zq);
  for (int h = 0; h < 2; h++) {
    const __m256i m = _mm256_loadu_si256((const __m256i *)(t->mult + 8 * h));
    const __m256i s = _mm256_loadu_si256((const __m256i *)(t->shift + 8 * h));
    /* lanes past t->lanes may hold anything (shift 0 included): vpsllv/vpsrlv give 0 for out-of-range counts, and those lanes are never stored */
    const __m256i sk[2] = {_mm256_and_si256(s, _mm256_set1_epi64x(0xffffffff)), _mm256_srli_epi64(s, 32)};
    r->mult[h][0] = m;
    r->mult[h][1] = _mm256_srli_epi64(m, 32);
    for (int k = 0; k < 2; k++) {
      r->shift[h][k] = sk[k];
      r->round[h][k] = _mm256_or_si256(_mm256_sllv_epi64(one, _mm256_sub_epi64(sk[k], one)), top);
      r->base[h][k] = _mm256_sub_epi64(_mm256_srlv_epi64(top, sk[k]), zq);
    }
  }
  r->lo = _mm256_set1_epi32(t->lo);
  r->hi = _mm256_set1_epi32(127);
}

/* One parity's four lanes: the low dword of each qword is zq + R(acc, mult, shift) wrapped to 32 bits. */
INL __m256i requant4(__m256i acc, const q8_requant *r, int h, int k) {
  const __m256i v = _mm256_add_epi64(_mm256_mul_epi32(acc, r->mult[h][k]), r->round[h][k]);
  return _mm256_sub_epi64(_mm256_srlv_epi64(v, r->shift[h][k]), r->base[h][k]);
}

/* Lanes 8h .. 8h + 7 as clamped codes in int32 lanes. */
INL __m256i requant8(__m256i acc, const q8_requant *r, int h) {
  const __m256i even = requant4(acc, r, h, 0), odd = requant4(_mm256_srli_epi64(acc, 32), r, h, 1);
  const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
  return _mm256_min_epi32(_mm256_max_epi32(v, r->lo), r->hi);
}

/* The pixel's codes out of its two accumulators; only the block's valid channels are written (a neighbouring block's may be another thread's). */
INL void store16(const dst_q8_task *t, int8_t *y, __m256i a0, __m256i a1, const q8_requant *r) {
  /* packs works per 128-bit half: qwords hold lanes 0-3, 8-11, 4-7, 12-15; the permute puts them in order */
  const __m256i s = _mm256_permute4x64_epi64(_mm256_packs_epi32(requant8(a0, r, 0), requant8(a1, r, 1)), 0xd8);
  const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  if (t->lanes == 16) {
    _mm_storeu_si128((__m128i *)y, b);
  } else {
    int8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, b);
    memcpy(y, tmp, (size_t)t->lanes);
  }
}

/*
 * The pixel's two codes of a weight pair become the dword (x0, x1) of int16s
 * that vpmaddwd takes against each lane's (w0, w1). Three ways, by how far
 * apart the pair's entries lie, chosen once per task (pair_paths); measured
 * on Zen 3 (bench/q8-kernels.ts) the adjacent way makes a dense layer ~1.25x
 * as fast as the generic one and the window way a 2:4 layer ~1.2x.
 */
enum { PAIR_ANY, PAIR_WINDOW, PAIR_TABLE, PAIR_ADJACENT };

/* Any two entries: two byte loads combined in a general register, then broadcast (7 instructions per pixel). */
INL int32_t code_pair(int8_t x0, int8_t x1) { return (int32_t)((uint32_t)(uint16_t)x0 | (uint32_t)(uint16_t)x1 << 16); }

/* Second entry the byte after the first (a dense conv's pairs when its channels per tap are even): one 16-bit broadcast, sign-extended. */
INL __m256i adjacent_codes(const int8_t *x, ptrdiff_t o0) {
  int16_t codes;
  memcpy(&codes, x + o0, 2);
  return _mm256_cvtepi8_epi16(_mm_set1_epi16(codes));
}

/*
 * Both entries within the 8 bytes from b (UHP 2:4 and 4:8 pairs): those 8
 * bytes as one broadcast qword, vpshufb moves the two codes into the high
 * bytes of the dword's int16s (ctl's 0x80 bytes zero the low ones): each
 * int16 is its code times 256. A scaled tile takes them so; otherwise an
 * arithmetic shift by 8 sign-extends them.
 */
INL __m256i window_codes(const int8_t *x, ptrdiff_t b, __m256i ctl, const int scaled) {
  int64_t bytes;
  memcpy(&bytes, x + b, 8);
  const __m256i high = _mm256_shuffle_epi8(_mm256_set1_epi64x(bytes), ctl);
  return scaled ? high : _mm256_srai_epi16(high, 8);
}

/*
 * A scaled tile sums code * 256 * weight from bias * 256 and shifts the sums
 * back by 8 before requantizing: one instruction less per pixel and pair,
 * ~10% of a 2:4 layer on Zen 3. The int32 sums wrap modulo 2^32, so the
 * shift gives the exact sum only when that lies within +-2^23: taken when the
 * bias and n products of at most 128 * 127 cannot leave it.
 */
static int fits_scaled(const dst_q8_task *t) {
  int64_t top = 0;
  for (int l = 0; l < 16; l++) {
    const int64_t b = t->bias[l] < 0 ? -(int64_t)t->bias[l] : t->bias[l];
    top = b > top ? b : top;
  }
  return top + (int64_t)t->n * 128 * 127 < ((int64_t)1 << 23);
}

/* A window pair's start b and shuffle control; once per task when its pairs fit (PAIR_TABLE, 4 KiB of stack), not per tile: ~1.1x on a 2:4 layer. */
#define TABLE_PAIRS 512
typedef struct {
  int32_t b, ctl;
} window_pair;

INL window_pair window_of(ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t top) {
  ptrdiff_t b = o0 < o1 ? o0 : o1;
  b = b < top ? b : top;
  const window_pair wp = {(int32_t)b, (int32_t)(0x00800080u | (uint32_t)(o0 - b) << 8 | (uint32_t)(o1 - b) << 24)};
  return wp;
}

/* One weight pair (entries at o0, o1) into P pixels' accumulators; codes times 256 when scaled. */
INL void pair_step(const int8_t *const *xp, ptrdiff_t o0, ptrdiff_t o1, const int8_t *w, __m256i *a0, __m256i *a1, const int P, const int path, ptrdiff_t top,
                   const window_pair *wt, const int scaled) {
  const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w));
  const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 16)));
  ptrdiff_t b = 0;
  __m256i ctl = _mm256_setzero_si256();
  if (path == PAIR_WINDOW || path == PAIR_TABLE) {
    const window_pair wp = path == PAIR_TABLE ? *wt : window_of(o0, o1, top);
    b = wp.b;
    ctl = _mm256_set1_epi32(wp.ctl);
  }
#pragma GCC unroll 6
  for (int i = 0; i < P; i++) {
    const __m256i xv = path == PAIR_ADJACENT ? adjacent_codes(xp[i], o0)
                       : path == PAIR_WINDOW || path == PAIR_TABLE ? window_codes(xp[i], b, ctl, scaled)
                       : scaled ? _mm256_slli_epi16(_mm256_set1_epi32(code_pair(xp[i][o0], xp[i][o1])), 8)
                                : _mm256_set1_epi32(code_pair(xp[i][o0], xp[i][o1]));
    a0[i] = _mm256_add_epi32(a0[i], _mm256_madd_epi16(xv, w0));
    a1[i] = _mm256_add_epi32(a1[i], _mm256_madd_epi16(xv, w1));
  }
}

INL void tile(const dst_q8_task *t, int p, const int P, const q8_requant *r, const int path, const ptrdiff_t top, const window_pair *wt, const int scaled) {
  const int8_t *xp[PMAX];
  ptrdiff_t yo[PMAX];
  dst_q8_tile_pixels(t, p, P, xp, yo);
  __m256i a0[PMAX], a1[PMAX];
  __m256i b0 = _mm256_loadu_si256((const __m256i *)t->bias), b1 = _mm256_loadu_si256((const __m256i *)(t->bias + 8));
  if (scaled) {
    b0 = _mm256_slli_epi32(b0, 8);
    b1 = _mm256_slli_epi32(b1, 8);
  }
#pragma GCC unroll 6
  for (int i = 0; i < P; i++) {
    a0[i] = b0;
    a1[i] = b1;
  }
  const int32_t *off = t->off;
  const int8_t *w = t->w;
  const int n2 = t->n & ~1;
  /* one loop per path, so none tests the path per pair */
  if (path == PAIR_ADJACENT) {
    for (int e = 0; e < n2; e += 2, w += 32) pair_step(xp, off[e], off[e + 1], w, a0, a1, P, PAIR_ADJACENT, top, wt, 0);
  } else if (path == PAIR_TABLE) {
    for (int e = 0; e < n2; e += 2, w += 32) pair_step(xp, 0, 0, w, a0, a1, P, PAIR_TABLE, top, wt + e / 2, scaled);
  } else if (path == PAIR_WINDOW) {
    for (int e = 0; e < n2; e += 2, w += 32) pair_step(xp, off[e], off[e + 1], w, a0, a1, P, PAIR_WINDOW, top, wt, 0);
  } else {
    for (int e = 0; e < n2; e += 2, w += 32) pair_step(xp, off[e], off[e + 1], w, a0, a1, P, PAIR_ANY, top, wt, 0);
  }
  /* odd n: the last pair's second weight is 0, so entry n - 1 stands in for the missing one */
  if (t->n & 1) pair_step(xp, off[n2], off[n2], w, a0, a1, P, PAIR_ANY, top, wt, scaled);
  if (scaled) {
#pragma GCC unroll 6
    for (int i = 0; i < P; i++) {
      a0[i] = _mm256_srai_epi32(a0[i], 8);
      a1[i] = _mm256_srai_epi32(a1[i], 8);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < P; i++) store16(t, t->y + yo[i], a0[i], a1[i], r);
}

/*
 * The task's pair path, and for PAIR_WINDOW (PAIR_TABLE) the latest window start, *top:
 * the largest entry offset - 7, so a window never reaches past a pixel's
 * last entry nor (it starts at the pair's lower one) before its first. A pixel's
 * entries are read through one pointer, so every byte between its lowest and
 * highest entry lies in the same array: the window reads nothing the scalar
 * kernel's reads do not bracket. PAIR_ADJACENT reads exactly the pair's bytes.
 */
static int pair_paths(const dst_q8_task *t, ptrdiff_t *top) {
  int adjacent = 1, close = 1;
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int e = 0; e < t->n; e++) {
    lo = t->off[e] < lo ? t->off[e] : lo;
    hi = t->off[e] > hi ? t->off[e] : hi;
  }
  for (int e = 0; e + 1 < t->n; e += 2) {
    const int64_t d = (int64_t)t->off[e + 1] - t->off[e];
    adjacent &= d == 1;
    close &= d >= -7 && d <= 7;
  }
  *top = (ptrdiff_t)hi - 7;
  if (adjacent) return PAIR_ADJACENT;
  return close && (int64_t)hi - lo >= 7 ? PAIR_WINDOW : PAIR_ANY;
}

INL void tiles(const dst_q8_task *t, const q8_requant *r, const int path, const ptrdiff_t top, const window_pair *wt, const int scaled) {
  int p = t->p0;
  for (; p + PMAX <= t->p1; p += PMAX) tile(t, p, PMAX, r, path, top, wt, scaled);
  switch (t->p1 - p) {
    case 5: tile(t, p, 5, r, path, top, wt, scaled); break;
    case 4: tile(t, p, 4, r, path, top, wt, scaled); break;
    case 3: tile(t, p, 3, r, path, top, wt, scaled); break;
    case 2: tile(t, p, 2, r, path, top, wt, scaled); break;
    case 1: tile(t, p, 1, r, path, top, wt, scaled); break;
    default: break;
  }
}

TGT static void conv16(const dst_q8_task *t) {
  q8_requant r;
  requant_init(t, &r);
  ptrdiff_t top;
  int path = pair_paths(t, &top);
  window_pair wt[TABLE_PAIRS];
  if (path == PAIR_WINDOW && t->n / 2 <= TABLE_PAIRS) {
    for (int e = 0; e + 1 < t->n; e += 2) wt[e / 2] = window_of(t->off[e], t->off[e + 1], top);
    path = PAIR_TABLE;
  }
  /* scaled sums for the window pairs a table holds, when the bound allows them (up to about 500 entries) */
  if (path == PAIR_TABLE && fits_scaled(t)) tiles(t, &r, PAIR_TABLE, top, wt, 1);
  else tiles(t, &r, path, top, wt, 0);
}

/*
 * ops_q8.h's add, 16 elements a step: its three requantizations computed
 * per lane (as requant4 does, one multiplier and shift for every lane)
 * instead of the portable version's two table loads per element, which
 * AVX2 could only gather.
 */
typedef struct {
  __m256i mult, round, base;
  __m128i shift;
} uniform_requant;

INL uniform_requant uniform_of(int32_t mult, int32_t shift) {
  const uniform_requant u = {_mm256_set1_epi64x(mult), _mm256_set1_epi64x((int64_t)((uint64_t)1 << 63 | (uint64_t)1 << (shift - 1))),
                             _mm256_set1_epi64x((int64_t)(((uint64_t)1 << 63) >> shift)), _mm_cvtsi32_si128(shift)};
  return u;
}

/* R(x, mult, shift) of 8 int32 lanes whose results are int32. */
INL __m256i requant_uniform(__m256i x, const uniform_requant *u) {
  const __m256i even = _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, u->mult), u->round), u->shift), u->base);
  const __m256i odd = _mm256_sub_epi64(_mm256_srl_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), u->mult), u->round), u->shift), u->base);
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
}

typedef struct {
  uniform_requant ra, rb, ro;
  __m256i za, zb, zo, lo, hi;
} add_consts;

/* 8 elements: clamped codes in int32 lanes. */
INL __m256i add8(__m128i a8, __m128i b8, const add_consts *c) {
  const __m256i a = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(a8), c->za), 20);
  const __m256i b = _mm256_slli_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(b8), c->zb), 20);
  const __m256i sum = _mm256_add_epi32(requant_uniform(a, &c->ra), requant_uniform(b, &c->rb));
  /* |R| < 2^29: clamped before the zero point is added, as the portable add */
  const __m256i r = _mm256_min_epi32(_mm256_max_epi32(requant_uniform(sum, &c->ro), c->lo), c->hi);
  return _mm256_add_epi32(r, c->zo);
}

/* 16 elements from a and b into y. */
INL void add16(const int8_t *a, const int8_t *b, int8_t *y, const add_consts *c) {
  const __m128i a16 = _mm_loadu_si128((const __m128i *)a), b16 = _mm_loadu_si128((const __m128i *)b);
  const __m256i lo = add8(a16, b16, c), hi = add8(_mm_srli_si128(a16, 8), _mm_srli_si128(b16, 8), c);
  const __m256i s = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8);
  _mm_storeu_si128((__m128i *)y, _mm_packs_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
}

TGT static void add(const int8_t *a, const int8_t *b, size_t n, int za, int zb, const int32_t *rq, int zo, int lo, int32_t *lut, int8_t *y) {
  (void)lut;
  const add_consts c = {uniform_of(rq[0], rq[1]), uniform_of(rq[2], rq[3]), uniform_of(rq[4], rq[5]), _mm256_set1_epi32(za), _mm256_set1_epi32(zb),
                        _mm256_set1_epi32(zo), _mm256_set1_epi32(lo - zo), _mm256_set1_epi32(127 - zo)};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) add16(a + i, b + i, y + i, &c);
  if (i == n) return;
  int8_t ta[16] = {0}, tb[16] = {0}, ty[16];
  memcpy(ta, a + i, n - i);
  memcpy(tb, b + i, n - i);
  add16(ta, tb, ty, &c);
  memcpy(y + i, ty, n - i);
}

const dst_q8_kernels dst_q8_avx2 = {conv16, add};
#endif
