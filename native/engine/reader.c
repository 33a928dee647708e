/* .uhp reader: every length, offset, checksum, shape and index is checked before use. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "json.h"
#include "graph.h"

#define HEADER_BYTES 32
#define FORMAT_VERSION 1
#define INT8_VERSION 2 /* int8 models */
#define MAX_DIM 65535
#define MAX_ELEMS (1l << 26)   /* per activation or weight tensor */
#define MAX_NODES 100000
#define MAX_SECTIONS (1 << 20)

static const uint8_t MAGIC[8] = {0x89, 'U', 'H', 'P', '\r', '\n', 0x1a, '\n'};

typedef struct {
  const uint8_t *bytes;
  size_t len;
  const dst_json *sections;
  size_t n_sections;
  const char *node; /* name of the node being read, for messages */
  int int8;         /* a version-2 (int8) file */
  const uint8_t *scales; /* int8: the weight scales of the layer being read */
  char *err;
  size_t errlen;
} reader;

static int fail(reader *r, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (r->node) snprintf(r->err, r->errlen, "node '%s': %s", r->node, msg);
  else snprintf(r->err, r->errlen, "%s", msg);
  return -1;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static float lef32(const uint8_t *p) {
  uint32_t u = le32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static int is_int(const dst_json *v, double lo, double hi) {
  return v && v->type == DST_JNUM && v->num == floor(v->num) && v->num >= lo && v->num <= hi;
}

static int get_int(reader *r, const dst_json *obj, const char *key, int lo, int hi, int *out) {
  const dst_json *v = dst_json_get(obj, key);
  if (!is_int(v, lo, hi)) return fail(r, "'%s' must be an integer in %d..%d", key, lo, hi);
  *out = (int)v->num;
  return 0;
}

/* An array of exactly n integers in lo..hi. */
static int get_ints(reader *r, const dst_json *obj, const char *key, int n, int lo, int hi, int *out) {
  const dst_json *v = dst_json_get(obj, key);
  if (!v || v->type != DST_JARR || (int)v->len != n) return fail(r, "'%s' must be an array of %d integers", key, n);
  int i = 0;
  for (const dst_json *e = v->child; e; e = e->next, i++) {
    if (!is_int(e, lo, hi)) return fail(r, "'%s' entries must be integers in %d..%d", key, lo, hi);
    out[i] = (int)e->num;
  }
  return 0;
}

static const char *get_str(const dst_json *obj, const char *key) {
  const dst_json *v = dst_json_get(obj, key);
  return v && v->type == DST_JSTR ? v->str : NULL;
}

static int str_is(const char *s, const char *want) { return s && strcmp(s, want) == 0; }

/* An int8 value's "q": scale a finite float32 > 0, zero point in -128..127. */
static int get_q(reader *r, const dst_json *obj, const char *where, float *scale, int *zero) {
  const dst_json *q = dst_json_get(obj, "q");
  if (!q || q->type != DST_JOBJ) return fail(r, "%s: 'q' must be an object {scale, zeroPoint} in an int8 file", where);
  const dst_json *sc = dst_json_get(q, "scale");
  if (!sc || sc->type != DST_JNUM || !(sc->num > 0) || !isfinite((float)sc->num) || (float)sc->num <= 0.0f)
    return fail(r, "%s: q.scale must be a finite number > 0", where);
  if (!is_int(dst_json_get(q, "zeroPoint"), -128, 127)) return fail(r, "%s: q.zeroPoint must be an integer in -128..127", where);
  *scale = (float)sc->num;
  *zero = (int)dst_json_get(q, "zeroPoint")->num;
  return 0;
}

/* A requantization (mult, shift) as uhp-format.md bounds it. */
/* shift >= 31: a factor below 1, so a requantized int32 sum stays an int32 (kernels/q8.h) */
static int requant_ok(int64_t mult, int64_t shift) { return mult >= (1ll << 30) && mult <= 0x7fffffffll && shift >= 31 && shift <= 62; }

static int32_t le32s(const uint8_t *p) {
  const uint32_t u = le32(p);
  int32_t v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Section named by data[key]: checked to hold exactly `bytes` bytes. NULL with err set when absent or wrong. */
static const uint8_t *section(reader *r, const dst_json *data, const char *key, uint64_t bytes, int required, int *missing) {
  const dst_json *v = dst_json_get(data, key);
  *missing = 0;
  if (!v) {
    if (required) fail(r, "data.%s is missing", key);
    *missing = 1;
    return NULL;
  }
  if (!is_int(v, 0, (double)r->n_sections - 1)) {
    fail(r, "data.%s must be a section number below %zu", key, r->n_sections);
    return NULL;
  }
  const dst_json *s = r->sections->child;
  for (int i = 0; i < (int)v->num; i++) s = s->next;
  uint64_t off = (uint64_t)dst_json_get(s, "offset")->num, len = (uint64_t)dst_json_get(s, "length")->num;
  if (len != bytes) {
    fail(r, "section %d (%s) holds %llu bytes, the layer needs %llu", (int)v->num, key, (unsigned long long)len, (unsigned long long)bytes);
    return NULL;
  }
  return r->bytes + off;
}

static int read_sections(reader *r, const dst_json *root, uint32_t count, size_t json_end) {
  const dst_json *s = dst_json_get(root, "sections");
  if (!s || s->type != DST_JARR) return fail(r, "header JSON: 'sections' must be an array");
  if (s->len != count) return fail(r, "header says %u sections, JSON lists %zu", count, s->len);
  uint64_t prev_end = json_end;
  int i = 0;
  for (const dst_json *e = s->child; e; e = e->next, i++) {
    const dst_json *off = dst_json_get(e, "offset"), *len = dst_json_get(e, "length"), *crc = dst_json_get(e, "crc32");
    if (!is_int(off, 0, 9007199254740992.0) || !is_int(len, 0, 9007199254740992.0) || !is_int(crc, 0, 4294967295.0))
      return fail(r, "section %d: offset, length and crc32 must be non-negative integers", i);
    uint64_t o = (uint64_t)off->num, l = (uint64_t)len->num;
    if (o % 64) return fail(r, "section %d: offset %llu is not 64-byte aligned", i, (unsigned long long)o);
    if (o < prev_end) return fail(r, "section %d: offset %llu overlaps what precedes it", i, (unsigned long long)o);
    if (o > r->len || l > r->len - o) return fail(r, "section %d: bytes %llu..%llu lie beyond the end of the file (%zu bytes): truncated?", i, (unsigned long long)o, (unsigned long long)(o + l), r->len);
    uint32_t want = (uint32_t)crc->num, got = dst_crc32(r->bytes + o, (size_t)l);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    got = want; /* the fuzz driver mutates section payloads; let them reach the checks behind the CRC */
#endif
    if (got != want) return fail(r, "section %d: CRC32 mismatch (stored %08x, computed %08x): file is corrupt", i, want, got);
    prev_end = o + l;
  }
  r->sections = s;
  r->n_sections = count;
  return 0;
}

static int window(reader *r, int size, int k, int s, int p, int d, int *out) {
  long o = ((long)size + 2l * p - (long)d * (k - 1) - 1) / s + 1;
  if ((long)size + 2l * p - (long)d * (k - 1) - 1 < 0 || o < 1) return fail(r, "window %d (stride %d, padding %d, dilation %d) does not fit input size %d", k, s, p, d, size);
  *out = (int)o;
  return 0;
}

/* Weight i of the file's values into flat position at of the layer: float32, or int8 kept as is and scaled for the planner. */
static void put_weight(const reader *r, dst_node *nd, long at, const uint8_t *v, long i) {
  if (!r->int8) {
    nd->dense[at] = lef32(v + 4 * i);
    return;
  }
  const int8_t q = (int8_t)v[i];
  const long per_out = (long)nd->cg * nd->kh * nd->kw;
  nd->qw[at] = q;
  nd->dense[at] = (float)q * lef32(r->scales + 4 * (at / per_out));
}

/* An int8 layer's integer bias, requantization and weight scales (version 2); its float bias stays zero. */
static int read_quant_layer(reader *r, dst_node *nd, const dst_json *data, const uint8_t *qbias, long total) {
  int missing;
  const uint8_t *sc = section(r, data, "scales", (uint64_t)nd->o * 4, 1, &missing);
  const uint8_t *rq = sc ? section(r, data, "requant", (uint64_t)nd->o * 8, 1, &missing) : NULL;
  if (!rq) return -1;
  r->scales = sc;
  nd->qw = calloc((size_t)total, 1);
  nd->qbias = malloc(sizeof *nd->qbias * (size_t)nd->o);
  nd->qreq = malloc(sizeof *nd->qreq * 2 * (size_t)nd->o);
  if (!nd->qw || !nd->qbias || !nd->qreq) return fail(r, "out of memory");
  for (int o = 0; o < nd->o; o++) {
    const float scale = lef32(sc + 4 * o);
    if (!(scale > 0.0f) || !isfinite(scale)) return fail(r, "weight scale of output channel %d must be a finite number > 0", o);
    nd->bias[o] = 0.0f;
    nd->qbias[o] = le32s(qbias + 4 * o);
    nd->qreq[2 * o] = le32s(rq + 8 * o), nd->qreq[2 * o + 1] = le32s(rq + 8 * o + 4);
    if (!requant_ok(nd->qreq[2 * o], nd->qreq[2 * o + 1]))
      return fail(r, "requantization of output channel %d (mult %d, shift %d) is outside mult 2^30..2^31-1, shift 31..62", o, nd->qreq[2 * o], nd->qreq[2 * o + 1]);
  }
  return 0;
}

static int read_weight_values(reader *r, dst_node *nd, const dst_json *node) {
  const dst_json *pat = dst_json_get(node, "pattern"), *data = dst_json_get(node, "data");
  if (!pat || pat->type != DST_JOBJ || !data || data->type != DST_JOBJ) return fail(r, "'pattern' and 'data' must be objects");
  const char *kind = get_str(pat, "kind");
  if ((double)nd->cg * nd->kh * nd->kw * nd->o > MAX_ELEMS) return fail(r, "weight [%d, %d, %d, %d] is too large", nd->o, nd->cg, nd->kh, nd->kw);
  long per_out = (long)nd->cg * nd->kh * nd->kw, total = per_out * nd->o;
  nd->dense = calloc((size_t)total, sizeof(float));
  nd->bias = calloc((size_t)nd->o, sizeof(float));
  if (!nd->dense || !nd->bias) return fail(r, "out of memory");
  int missing;
  const uint8_t *b = section(r, data, "bias", (uint64_t)nd->o * 4, r->int8, &missing);
  if (!b && (!missing || r->int8)) return -1;
  for (int i = 0; b && i < nd->o; i++) nd->bias[i] = lef32(b + 4 * i);
  if (r->int8 && read_quant_layer(r, nd, data, b, total)) return -1;
  const int vbytes = r->int8 ? 1 : 4;

  if (kind && strcmp(kind, "dense") == 0) {
    nd->pattern = DST_PAT_DENSE;
    const uint8_t *v = section(r, data, "values", (uint64_t)total * vbytes, 1, &missing);
    if (!v) return -1;
    for (long i = 0; i < total; i++) put_weight(r, nd, i, v, i);
    return 0;
  }
  if (kind && strcmp(kind, "unstructured") == 0) {
    nd->pattern = DST_PAT_CSR;
    int nnz = 0;
    if (get_int(r, pat, "nnz", 0, (int)(total < 0x7fffffff ? total : 0x7fffffff), &nnz)) return -1;
    const uint8_t *rp = section(r, data, "rowptr", ((uint64_t)nd->o + 1) * 4, 1, &missing);
    if (!rp) return -1;
    const uint8_t *ci = section(r, data, "colidx", (uint64_t)nnz * 4, 1, &missing);
    if (!ci) return -1;
    const uint8_t *v = section(r, data, "values", (uint64_t)nnz * vbytes, 1, &missing);
    if (!v) return -1;
    if (le32(rp) != 0 || le32(rp + 4l * nd->o) != (uint32_t)nnz) return fail(r, "CSR row pointers must run from 0 to nnz (%d)", nnz);
    for (int o = 0; o < nd->o; o++) {
      uint32_t a = le32(rp + 4l * o), e = le32(rp + 4l * (o + 1));
      if (e < a || e > (uint32_t)nnz) return fail(r, "CSR row pointers of row %d decrease or exceed nnz", o);
      for (uint32_t k = a; k < e; k++) {
        uint32_t col = le32(ci + 4l * k);
        if (col >= (uint32_t)per_out || (k > a && col <= le32(ci + 4l * (k - 1))))
          return fail(r, "CSR row %d: column %u out of range 0..%ld or not increasing", o, col, per_out - 1);
        put_weight(r, nd, (long)o * per_out + col, v, k);
      }
    }
    return 0;
  }
  if (!kind || strcmp(kind, "uhp") != 0) return fail(r, "pattern kind must be 'dense', 'uhp' or 'unstructured'");
  nd->pattern = DST_PAT_UHP;
  int bits = 0;
  if (get_int(r, pat, "m", 2, 16, &nd->m) || get_int(r, pat, "n", 1, nd->m - 1, &nd->n) ||
      get_int(r, pat, "block", 1, 1 << 20, &nd->block) || get_int(r, pat, "bits", 1, 16, &bits))
    return -1;
  const char *grouping = get_str(pat, "grouping");
  nd->flat = nd->cg % nd->m != 0;
  if (!grouping || strcmp(grouping, nd->flat ? "flat" : "channel") != 0)
    return fail(r, "grouping must be '%s' for %d input channels per group and M = %d", nd->flat ? "flat" : "channel", nd->cg, nd->m);
  const int count = dst_uhp_patterns(nd->m, nd->n), want_bits = dst_uhp_bits(nd->m, nd->n);
  if (bits != want_bits) return fail(r, "pattern %d:%d needs %d index bits, header says %d", nd->n, nd->m, want_bits, bits);
  uint16_t *combos = malloc(sizeof *combos * (size_t)count);
  if (!combos) return fail(r, "out of memory");
  dst_uhp_combinations(nd->m, nd->n, combos);
  int groups = dst_uhp_groups(nd), blocks = (nd->o + nd->block - 1) / nd->block;
  uint64_t n_idx = (uint64_t)blocks * groups;
  const uint8_t *v = section(r, data, "values", (uint64_t)nd->o * groups * nd->n * vbytes, 1, &missing);
  const uint8_t *ix = v ? section(r, data, "indices", (n_idx * bits + 7) / 8, 1, &missing) : NULL;
  nd->mask = ix ? calloc((size_t)n_idx * nd->m, 1) : NULL;
  if (!ix || !nd->mask) {
    free(combos);
    return ix ? fail(r, "out of memory") : -1;
  }
  uint64_t bit = 0;
  for (int blk = 0; blk < blocks; blk++) {
    for (int g = 0; g < groups; g++) {
      unsigned idx = 0;
      for (int i = 0; i < bits; i++, bit++) idx |= (unsigned)((ix[bit >> 3] >> (bit & 7)) & 1) << i;
      if (idx >= (unsigned)count) {
        free(combos);
        return fail(r, "pattern index %u of block %d, group %d is out of range (%d patterns for %d:%d)", idx, blk, g, count, nd->n, nd->m);
      }
      uint8_t *mk = nd->mask + ((size_t)blk * groups + g) * nd->m;
      for (int j = 0; j < nd->m; j++) mk[j] = (combos[idx] >> j) & 1;
      int o1 = (blk + 1) * nd->block < nd->o ? (blk + 1) * nd->block : nd->o;
      for (int o = blk * nd->block; o < o1; o++) {
        int k = 0;
        for (int j = 0; j < nd->m; j++) {
          if (!mk[j]) continue;
          int pos = dst_uhp_position(nd, g, j);
          const size_t at = ((size_t)o * groups + g) * nd->n + k++;
          if (pos >= 0) put_weight(r, nd, (long)o * per_out + pos, v, (long)at);
        }
      }
    }
  }
  free(combos);
  return 0;
}

/*
 * An int8 layer's accumulator stays within int32 for every input: |bq| +
 * 255 * sum |wq| per output channel, as the quantizer promises (uhp-format.md).
 */
static int accumulator_fits(reader *r, const dst_node *nd) {
  const long per_out = (long)nd->cg * nd->kh * nd->kw;
  for (int o = 0; o < nd->o; o++) {
    int64_t most = nd->qbias[o] < 0 ? -(int64_t)nd->qbias[o] : nd->qbias[o];
    for (long k = 0; k < per_out; k++) most += 255 * (int64_t)abs(nd->qw[o * per_out + k]);
    if (most > 0x7fffffffll) return fail(r, "output channel %d can sum to %lld, beyond int32 (bias and weights too large for its scales)", o, (long long)most);
  }
  return 0;
}

static int read_weights(reader *r, dst_node *nd, const dst_json *node) {
  if (read_weight_values(r, nd, node)) return -1;
  return r->int8 ? accumulator_fits(r, nd) : 0;
}

static const struct { const char *name; int op, n_in; } OPS[] = {
  {"conv", DST_OP_CONV, 1}, {"linear", DST_OP_LINEAR, 1}, {"relu", DST_OP_RELU, 1}, {"add", DST_OP_ADD, 2},
  {"maxpool", DST_OP_MAXPOOL, 1}, {"avgpool", DST_OP_AVGPOOL, 1}, {"globalavgpool", DST_OP_GLOBALAVGPOOL, 1},
  {"flatten", DST_OP_FLATTEN, 1}, {"softmax", DST_OP_SOFTMAX, 1},
};

static int shape_ok(reader *r, dst_shape s) {
  if ((long)s.c * s.h * s.w > MAX_ELEMS) return fail(r, "activation of %ld values is too large", (long)s.c * s.h * s.w);
  return 0;
}

static int read_node(reader *r, dst_node *nd, const dst_json *node, const dst_shape *shapes) {
  const char *op = get_str(node, "op");
  int i = 0;
  for (; i < (int)(sizeof OPS / sizeof OPS[0]); i++) if (op && strcmp(op, OPS[i].name) == 0) break;
  if (i == (int)(sizeof OPS / sizeof OPS[0])) return fail(r, "unknown op '%s'", op ? op : "(missing)");
  nd->op = OPS[i].op;
  nd->n_in = OPS[i].n_in;
  dst_shape in = shapes[nd->in[0]], out = in;
  nd->in_shape = in;
  if (nd->op == DST_OP_ADD) {
    dst_shape b = shapes[nd->in[1]];
    if (b.rank != in.rank || b.c != in.c || b.h != in.h || b.w != in.w) return fail(r, "add of differently shaped inputs");
  }
  if (nd->op == DST_OP_ADD || nd->op == DST_OP_CONV || nd->op == DST_OP_LINEAR) {
    const dst_json *relu = dst_json_get(node, "relu");
    if (!relu || relu->type != DST_JBOOL) return fail(r, "'relu' must be true or false");
    nd->relu = relu->num != 0;
  }
  switch (nd->op) {
    case DST_OP_CONV: {
      int ws[4], st[2], pd[2], dl[2];
      if (in.rank != 3) return fail(r, "conv needs a [C, H, W] input");
      if (get_ints(r, node, "weightShape", 4, 1, MAX_DIM, ws) || get_ints(r, node, "stride", 2, 1, MAX_DIM, st) ||
          get_ints(r, node, "padding", 2, 0, MAX_DIM, pd) || get_ints(r, node, "dilation", 2, 1, MAX_DIM, dl) ||
          get_int(r, node, "groups", 1, MAX_DIM, &nd->groups))
        return -1;
      nd->o = ws[0], nd->cg = ws[1], nd->kh = ws[2], nd->kw = ws[3];
      nd->sh = st[0], nd->sw = st[1], nd->ph = pd[0], nd->pw = pd[1], nd->dh = dl[0], nd->dw = dl[1];
      if ((long)nd->cg * nd->groups != in.c || nd->o % nd->groups)
        return fail(r, "weight [%d, %d, %d, %d] with %d groups does not fit %d input channels", nd->o, nd->cg, nd->kh, nd->kw, nd->groups, in.c);
      out.c = nd->o;
      if (window(r, in.h, nd->kh, nd->sh, nd->ph, nd->dh, &out.h) || window(r, in.w, nd->kw, nd->sw, nd->pw, nd->dw, &out.w)) return -1;
      if (shape_ok(r, out) || read_weights(r, nd, node)) return -1;
      break;
    }
    case DST_OP_LINEAR: {
      int ws[2];
      if (get_ints(r, node, "weightShape", 2, 1, 1 << 26, ws)) return -1;
      if (in.rank != 1 || in.c != ws[1]) return fail(r, "linear with %d inputs needs a [%d] input", ws[1], ws[1]);
      nd->o = ws[0], nd->cg = ws[1];
      nd->kh = nd->kw = nd->sh = nd->sw = nd->dh = nd->dw = nd->groups = 1;
      out = (dst_shape){1, nd->o, 1, 1};
      if (shape_ok(r, out) || read_weights(r, nd, node)) return -1;
      break;
    }
    case DST_OP_MAXPOOL:
    case DST_OP_AVGPOOL: {
      int k[2], st[2], pd[2];
      if (in.rank != 3) return fail(r, "pooling needs a [C, H, W] input");
      if (get_ints(r, node, "kernel", 2, 1, MAX_DIM, k) || get_ints(r, node, "stride", 2, 1, MAX_DIM, st) ||
          get_ints(r, node, "padding", 2, 0, MAX_DIM, pd))
        return -1;
      nd->kh = k[0], nd->kw = k[1], nd->sh = st[0], nd->sw = st[1], nd->ph = pd[0], nd->pw = pd[1], nd->dh = nd->dw = 1;
      if (2 * nd->ph > nd->kh || 2 * nd->pw > nd->kw) return fail(r, "pool padding must be at most half the kernel");
      if (window(r, in.h, nd->kh, nd->sh, nd->ph, 1, &out.h) || window(r, in.w, nd->kw, nd->sw, nd->pw, 1, &out.w)) return -1;
      break;
    }
    case DST_OP_GLOBALAVGPOOL:
      if (in.rank != 3) return fail(r, "globalavgpool needs a [C, H, W] input");
      out.h = out.w = 1;
      break;
    case DST_OP_FLATTEN:
      out = (dst_shape){1, in.c * in.h * in.w, 1, 1};
      break;
    default:
      break;
  }
  int decl[3];
  if (get_ints(r, node, "shape", out.rank, 1, 1 << 26, decl)) return -1;
  int same = out.rank == 3 ? decl[0] == out.c && decl[1] == out.h && decl[2] == out.w : decl[0] == out.c;
  if (!same) return fail(r, "declared output shape does not match the one its inputs give");
  nd->out_shape = out;
  return 0;
}

static int read_input(reader *r, dst_model *m, const dst_json *root) {
  const dst_json *in = dst_json_get(root, "input");
  if (!in || in->type != DST_JOBJ) return fail(r, "'input' must be an object");
  int s[3];
  if (get_ints(r, in, "shape", 3, 1, MAX_DIM, s)) return -1;
  m->input = (dst_shape){3, s[0], s[1], s[2]};
  if (shape_ok(r, m->input)) return -1;
  m->crop_h = s[1], m->crop_w = s[2];
  if (r->int8 && get_q(r, in, "input", &m->in_qs, &m->in_qz)) return -1;
  const dst_json *crop = dst_json_get(in, "cropFrom");
  if (crop && crop->type != DST_JNULL) {
    int c[2];
    if (get_ints(r, in, "cropFrom", 2, 1, MAX_DIM, c)) return -1;
    if (c[0] < s[1] || c[1] < s[2]) return fail(r, "input.cropFrom is smaller than the input");
    if ((long)c[0] * c[1] * s[0] > MAX_ELEMS) return fail(r, "input.cropFrom is too large");
    m->crop_h = c[0], m->crop_w = c[1];
  }
  const char *keys[2] = {"mean", "std"};
  for (int k = 0; k < 2; k++) {
    const dst_json *v = dst_json_get(in, keys[k]);
    if (!v || v->type == DST_JNULL) continue;
    if (v->type != DST_JARR || (int)v->len != s[0]) return fail(r, "input.%s must be null or %d numbers", keys[k], s[0]);
    float *dst = malloc(sizeof(float) * (size_t)s[0]);
    if (!dst) return fail(r, "out of memory");
    if (k == 0) m->mean = dst; else m->std = dst;
    int i = 0;
    for (const dst_json *e = v->child; e; e = e->next, i++) {
      if (e->type != DST_JNUM || (k == 1 && e->num == 0)) return fail(r, "input.%s entries must be numbers%s", keys[k], k ? ", none zero" : "");
      dst[i] = (float)e->num;
    }
  }
  return 0;
}

/* Scale and zero point of value v (0: the input) of an int8 model. */
static void value_q(const dst_model *m, int v, float *scale, int *zero) {
  *scale = v ? m->nodes[v - 1].qs : m->in_qs;
  *zero = v ? m->nodes[v - 1].qz : m->in_qz;
}

/* An add's "requant": [[ma, sa], [mb, sb], [mo, so]]. */
static int read_add_requant(reader *r, dst_node *nd, const dst_json *node) {
  const dst_json *rq = dst_json_get(node, "requant");
  if (!rq || rq->type != DST_JARR || rq->len != 3) return fail(r, "'requant' must be [[ma, sa], [mb, sb], [mo, so]] in an int8 file");
  int i = 0;
  for (const dst_json *pair = rq->child; pair; pair = pair->next, i++) {
    const dst_json *mult = pair->type == DST_JARR && pair->len == 2 ? pair->child : NULL;
    if (!mult || !is_int(mult, 1073741824.0, 2147483647.0) || !is_int(mult->next, 31, 62))
      return fail(r, "requant[%d] must be [mult, shift] with mult in 2^30..2^31-1 and shift in 31..62", i);
    nd->rq[2 * i] = (int32_t)mult->num, nd->rq[2 * i + 1] = (int32_t)mult->next->num;
  }
  return 0;
}

/* The q of node nd's output, and what int8 models require of its op. */
static int read_node_quant(reader *r, const dst_model *m, dst_node *nd, const dst_json *node) {
  if (nd->op == DST_OP_SOFTMAX) return fail(r, "softmax cannot run in int8; an int8 model ends with its scores");
  if (get_q(r, node, "node", &nd->qs, &nd->qz)) return -1;
  if (nd->op == DST_OP_ADD) return read_add_requant(r, nd, node);
  if (nd->op == DST_OP_CONV || nd->op == DST_OP_LINEAR) return 0;
  float s;
  int z;
  value_q(m, nd->in[0], &s, &z);
  if (s != nd->qs || z != nd->qz) return fail(r, "q must equal its input's q (scale %g, zero point %d): this op keeps the codes as they are", (double)s, z);
  return 0;
}

static int read_graph(reader *r, dst_model *m, const dst_json *root) {
  const char *format = get_str(root, "format");
  if (!format || strcmp(format, "dst-uhp") != 0) return fail(r, "header JSON: 'format' must be \"dst-uhp\"");
  if (read_input(r, m, root)) return -1;
  const dst_json *nodes = dst_json_get(root, "nodes");
  if (!nodes || nodes->type != DST_JARR || nodes->len < 1 || nodes->len > MAX_NODES) return fail(r, "'nodes' must be a non-empty array");
  m->n_nodes = (int)nodes->len;
  m->nodes = calloc((size_t)m->n_nodes, sizeof *m->nodes);
  const char **names = calloc((size_t)m->n_nodes + 1, sizeof *names);
  dst_shape *shapes = calloc((size_t)m->n_nodes + 1, sizeof *shapes);
  int rc = -1;
  if (!m->nodes || !names || !shapes) {
    fail(r, "out of memory");
    goto done;
  }
  names[0] = "input";
  shapes[0] = m->input;
  int i = 0;
  for (const dst_json *node = nodes->child; node; node = node->next, i++) {
    dst_node *nd = &m->nodes[i];
    r->node = NULL;
    if (node->type != DST_JOBJ) { fail(r, "node %d is not an object", i); goto done; }
    const char *name = get_str(node, "name"), *output = get_str(node, "output");
    if (!name || !output) { fail(r, "node %d needs string 'name' and 'output'", i); goto done; }
    r->node = name;
    const dst_json *inputs = dst_json_get(node, "inputs");
    if (!inputs || inputs->type != DST_JARR || inputs->len < 1 || inputs->len > 2) { fail(r, "'inputs' must list 1 or 2 values"); goto done; }
    int k = 0;
    for (const dst_json *e = inputs->child; e; e = e->next, k++) {
      int found = -1;
      for (int v = 0; v <= i && e->type == DST_JSTR; v++) if (strcmp(names[v], e->str) == 0) found = v;
      if (found < 0) { fail(r, "input '%s' is not defined before this node", e->type == DST_JSTR ? e->str : "?"); goto done; }
      nd->in[k] = found;
    }
    for (int v = 0; v <= i; v++) if (strcmp(names[v], output) == 0) { fail(r, "value '%s' is defined twice", output); goto done; }
    if (read_node(r, nd, node, shapes)) goto done;
    if (r->int8 && read_node_quant(r, m, nd, node)) goto done;
    if ((int)inputs->len != nd->n_in) { fail(r, "op needs %d inputs, got %zu", nd->n_in, inputs->len); goto done; }
    names[i + 1] = output;
    shapes[i + 1] = nd->out_shape;
  }
  r->node = NULL;
  const char *output = get_str(root, "output");
  m->output = -1;
  for (int v = 0; output && v <= m->n_nodes; v++) if (strcmp(names[v], output) == 0) m->output = v;
  if (m->output < 0) { fail(r, "'output' must name a value of the graph"); goto done; }
  m->out_shape = shapes[m->output];
  rc = 0;
done:
  free(names);
  free(shapes);
  return rc;
}

int dst_model_read(dst_model *m, const uint8_t *bytes, size_t len, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  reader r = {.bytes = bytes, .len = len, .err = err, .errlen = errlen};
  if (len < HEADER_BYTES) return fail(&r, "file is %zu bytes, shorter than the %d-byte header: truncated or not a .uhp file", len, HEADER_BYTES);
  if (memcmp(bytes, MAGIC, 8) != 0) return fail(&r, "bad magic: not a .uhp model file");
  uint32_t version = le32(bytes + 8), json_len = le32(bytes + 12), json_crc = le32(bytes + 16), count = le32(bytes + 20);
  uint64_t file_len = le64(bytes + 24);
  if (version != FORMAT_VERSION && version != INT8_VERSION)
    return fail(&r, "format version %u is not supported (this engine reads versions %d and %d)", version, FORMAT_VERSION, INT8_VERSION);
  r.int8 = m->int8 = version == INT8_VERSION;
  if (file_len != len) return fail(&r, "file is %zu bytes but its header says %llu: truncated or extended", len, (unsigned long long)file_len);
  if (json_len > len - HEADER_BYTES) return fail(&r, "header JSON length %u runs past the end of the file", json_len);
  if (count > MAX_SECTIONS) return fail(&r, "header claims %u sections", count);
  uint32_t got = dst_crc32(bytes + HEADER_BYTES, json_len);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  got = json_crc;
#endif
  if (got != json_crc) return fail(&r, "header JSON CRC32 mismatch (stored %08x, computed %08x): file is corrupt", json_crc, got);
  dst_json_doc doc;
  if (dst_json_parse(&doc, (const char *)bytes + HEADER_BYTES, json_len, err, errlen)) return -1;
  int rc = -1;
  if (doc.root->type != DST_JOBJ) fail(&r, "header JSON must be an object");
  else if (!is_int(dst_json_get(doc.root, "version"), version, version)) fail(&r, "header JSON 'version' must be %u, as the file header says", version);
  else if (version == INT8_VERSION && !str_is(get_str(doc.root, "quant"), "int8")) fail(&r, "header JSON 'quant' must be \"int8\" in a version %d file", INT8_VERSION);
  else if (!read_sections(&r, doc.root, count, HEADER_BYTES + (size_t)json_len) && !read_graph(&r, m, doc.root)) rc = 0;
  dst_json_free(&doc);
  if (rc) dst_model_free(m);
  return rc;
}

void dst_model_free(dst_model *m) {
  for (int i = 0; m->nodes && i < m->n_nodes; i++) {
    free(m->nodes[i].dense);
    free(m->nodes[i].mask);
    free(m->nodes[i].bias);
    free(m->nodes[i].qw);
    free(m->nodes[i].qbias);
    free(m->nodes[i].qreq);
  }
  free(m->nodes);
  free(m->mean);
  free(m->std);
  memset(m, 0, sizeof *m);
}
