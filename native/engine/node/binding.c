/* Node-API face of the engine: thin, no policy; the TS side (src/runtime) adds names and error types. */
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pack.h"
#include "../plan.h"
#include "../uhp_engine.h"

typedef struct {
  dst_engine *e;
} handle;

#define CALL(env, expr)                                  \
  do {                                                   \
    if ((expr) != napi_ok) {                             \
      napi_throw_error(env, NULL, "node-api call failed"); \
      return NULL;                                       \
    }                                                    \
  } while (0)

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  handle *h = data;
  dst_engine_free(h->e);
  free(h);
}

static handle *get_handle(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || !data) {
    napi_throw_type_error(env, NULL, "expected an engine handle");
    return NULL;
  }
  handle *h = data;
  if (!h->e) {
    napi_throw_error(env, NULL, "model was disposed");
    return NULL;
  }
  return h;
}

static int isa_from(napi_env env, napi_value v, int *isa) {
  char name[16];
  size_t len;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok) return -1;
  if (strcmp(name, "auto") == 0) {
    *isa = DST_ISA_AUTO;
    return 0;
  }
  for (int i = 0; i < DST_ISA_COUNT; i++)
    if (strcmp(name, dst_isa_name(i)) == 0) {
      *isa = i;
      return 0;
    }
  return -1;
}

/* load(bytes: Uint8Array, isa: string, threads: number, targetFlags?: number) -> handle; flags: uhp_engine.h's DST_TARGET_* */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array)
    return throw_msg(env, "load(bytes: Uint8Array, isa: string, threads: number)");
  int isa, threads;
  if (isa_from(env, argv[1], &isa)) return throw_msg(env, "unknown kernel set: use auto, scalar, avx2, avx512 or neon");
  CALL(env, napi_get_value_int32(env, argv[2], &threads));
  int flags = 0;
  if (argc > 3) CALL(env, napi_get_value_int32(env, argv[3], &flags));
  char err[320];
  dst_engine *e = dst_engine_load_target(data, len, isa, threads, flags, err, sizeof err);
  if (!e) return throw_msg(env, err);
  handle *h = malloc(sizeof *h);
  if (!h) {
    dst_engine_free(e);
    return throw_msg(env, "out of memory");
  }
  h->e = e;
  napi_value out;
  if (napi_create_external(env, h, finalize, NULL, &out) != napi_ok) {
    finalize(env, h, NULL);
    return throw_msg(env, "node-api call failed");
  }
  return out;
}

/* run(handle, input: Float32Array, batch: number) -> Float32Array */
static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_msg(env, "run(handle, input, batch)");
  handle *h = get_handle(env, argv[0]);
  if (!h) return NULL;
  napi_typedarray_type type;
  size_t len;
  void *in;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &in, NULL, NULL) != napi_ok || type != napi_float32_array)
    return throw_msg(env, "input must be a Float32Array");
  int batch;
  CALL(env, napi_get_value_int32(env, argv[2], &batch));
  size_t per = dst_engine_input_size(h->e), outn = dst_engine_output_size(h->e);
  if (batch < 1 || len != per * (size_t)batch) {
    char msg[160];
    snprintf(msg, sizeof msg, "input has %zu values; batch %d needs %zu", len, batch, per * (size_t)(batch < 1 ? 0 : batch));
    return throw_msg(env, msg);
  }
  napi_value buf, out;
  void *outp;
  CALL(env, napi_create_arraybuffer(env, outn * (size_t)batch * sizeof(float), &outp, &buf));
  CALL(env, napi_create_typedarray(env, napi_float32_array, outn * (size_t)batch, buf, 0, &out));
  const int bad = dst_engine_run(h->e, in, outp, batch);
  if (bad) {
    char msg[160];
    snprintf(msg, sizeof msg, "image %d of the batch holds a NaN or an infinity; the engine runs finite images only", bad - 1);
    return throw_msg(env, msg);
  }
  return out;
}

static napi_value int_array(napi_env env, const int *v, int n) {
  napi_value arr, x;
  if (napi_create_array_with_length(env, (size_t)n, &arr) != napi_ok) return NULL;
  for (int i = 0; i < n; i++) {
    if (napi_create_int32(env, v[i], &x) != napi_ok || napi_set_element(env, arr, (uint32_t)i, x) != napi_ok) return NULL;
  }
  return arr;
}

/* A call's `want` arguments into argv, the first a live handle, returned; NULL with a JS error thrown otherwise. */
static handle *handle_call(napi_env env, napi_callback_info cbinfo, size_t want, napi_value *argv, const char *usage) {
  size_t argc = want;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_error(env, NULL, usage);
    return NULL;
  }
  return get_handle(env, argv[0]);
}

/* By enum dst_schedule. */
static const char *const SCHEDULES[] = {"pool", "caller", "auto"};

/* info(handle) -> { inputShape, outputShape, isa, threads, memoryBytes, schedule, int8 } */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[1];
  handle *h = handle_call(env, cbinfo, 1, argv, "info(handle)");
  if (!h) return NULL;
  int in[3], out[3];
  dst_engine_input_shape(h->e, in);
  int rank = dst_engine_output_shape(h->e, out);
  napi_value obj, v;
  CALL(env, napi_create_object(env, &obj));
  CALL(env, napi_set_named_property(env, obj, "inputShape", int_array(env, in, 3)));
  CALL(env, napi_set_named_property(env, obj, "outputShape", int_array(env, out, rank)));
  CALL(env, napi_create_string_utf8(env, dst_isa_name(dst_engine_isa(h->e)), NAPI_AUTO_LENGTH, &v));
  CALL(env, napi_set_named_property(env, obj, "isa", v));
  CALL(env, napi_create_int32(env, dst_engine_threads(h->e), &v));
  CALL(env, napi_set_named_property(env, obj, "threads", v));
  CALL(env, napi_create_double(env, (double)dst_engine_memory(h->e), &v));
  CALL(env, napi_set_named_property(env, obj, "memoryBytes", v));
  CALL(env, napi_create_string_utf8(env, SCHEDULES[dst_engine_schedule(h->e)], NAPI_AUTO_LENGTH, &v));
  CALL(env, napi_set_named_property(env, obj, "schedule", v));
  CALL(env, napi_get_boolean(env, dst_engine_plan(h->e)->int8 != 0, &v));
  CALL(env, napi_set_named_property(env, obj, "int8", v));
  return obj;
}

/* setSchedule(handle, 'pool' | 'caller' | 'auto') */
static napi_value set_schedule(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[2];
  handle *h = handle_call(env, cbinfo, 2, argv, "setSchedule(handle, schedule)");
  if (!h) return NULL;
  char name[16];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, &len) != napi_ok) return throw_msg(env, "schedule must be a string");
  for (int i = 0; i < 3; i++)
    if (strcmp(name, SCHEDULES[i]) == 0 && dst_engine_set_schedule(h->e, i) == 0) return NULL;
  return throw_msg(env, "schedule must be pool, caller or auto");
}

/* setThreads(handle, n) */
static napi_value set_threads(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[2];
  handle *h = handle_call(env, cbinfo, 2, argv, "setThreads(handle, threads)");
  if (!h) return NULL;
  int n;
  CALL(env, napi_get_value_int32(env, argv[1], &n));
  char err[160];
  if (dst_engine_set_threads(h->e, n, err, sizeof err)) return throw_msg(env, err);
  return NULL;
}

/* profile(handle, on: boolean): per-layer timing on (totals zeroed) or off */
static napi_value profile(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[2];
  handle *h = handle_call(env, cbinfo, 2, argv, "profile(handle, on)");
  if (!h) return NULL;
  bool on;
  CALL(env, napi_get_value_bool(env, argv[1], &on));
  dst_engine_profile(h->e, on);
  return NULL;
}

/* layers(handle) -> [{ kernel, macs, ms, fused }] per graph node, ms summed since profiling was turned on */
static napi_value layers(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[1];
  handle *h = handle_call(env, cbinfo, 1, argv, "layers(handle)");
  if (!h) return NULL;
  const int n = dst_engine_node_count(h->e);
  napi_value arr, obj, v;
  CALL(env, napi_create_array_with_length(env, (size_t)n, &arr));
  for (int i = 0; i < n; i++) {
    CALL(env, napi_create_object(env, &obj));
    CALL(env, napi_create_string_utf8(env, dst_engine_node_kernel(h->e, i), NAPI_AUTO_LENGTH, &v));
    CALL(env, napi_set_named_property(env, obj, "kernel", v));
    CALL(env, napi_create_double(env, (double)dst_engine_node_macs(h->e, i), &v));
    CALL(env, napi_set_named_property(env, obj, "macs", v));
    CALL(env, napi_create_double(env, dst_engine_node_ms(h->e, i), &v));
    CALL(env, napi_set_named_property(env, obj, "ms", v));
    CALL(env, napi_get_boolean(env, dst_engine_node_fused(h->e, i), &v));
    CALL(env, napi_set_named_property(env, obj, "fused", v));
    CALL(env, napi_set_element(env, arr, (uint32_t)i, obj));
  }
  return arr;
}

/* dispose(handle): frees now; the handle's finalizer then has nothing left to do. */
static napi_value dispose(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) return throw_msg(env, "dispose(handle)");
  handle *h = data;
  dst_engine_free(h->e);
  h->e = NULL;
  return NULL;
}

/* isas() -> names of the kernel sets this CPU runs, best first */
static napi_value isas(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  static const int order[] = {DST_ISA_AVX512, DST_ISA_AVX2, DST_ISA_NEON, DST_ISA_SCALAR};
  napi_value arr, v;
  CALL(env, napi_create_array(env, &arr));
  uint32_t k = 0;
  for (int i = 0; i < 4; i++) {
    if (!dst_isa_available(order[i])) continue;
    CALL(env, napi_create_string_utf8(env, dst_isa_name(order[i]), NAPI_AUTO_LENGTH, &v));
    CALL(env, napi_set_element(env, arr, k++, v));
  }
  return arr;
}

static int set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value x;
  return napi_create_double(env, v, &x) != napi_ok || napi_set_named_property(env, obj, key, x) != napi_ok ? -1 : 0;
}

static napi_value shape_object(napi_env env, dst_shape s) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (set_num(env, obj, "rank", s.rank) || set_num(env, obj, "c", s.c) || set_num(env, obj, "h", s.h) || set_num(env, obj, "w", s.w)) return NULL;
  return obj;
}

/* A copy of n elements of `bytes` each as a typed array, or null for NULL. */
static napi_value typed_copy(napi_env env, napi_typedarray_type type, const void *src, size_t n, size_t bytes) {
  napi_value buf, arr;
  void *dst;
  if (!src) {
    napi_get_null(env, &arr);
    return arr;
  }
  if (napi_create_arraybuffer(env, n * bytes, &dst, &buf) != napi_ok) return NULL;
  if (n) memcpy(dst, src, n * bytes);
  if (napi_create_typedarray(env, type, n, buf, 0, &arr) != napi_ok) return NULL;
  return arr;
}

/* The first n of names as a JS array of strings, or NULL on failure. */
static napi_value string_array(napi_env env, const char *const *names, int n) {
  napi_value arr, v;
  if (napi_create_array_with_length(env, (size_t)n, &arr) != napi_ok) return NULL;
  for (int i = 0; i < n; i++)
    if (napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &v) != napi_ok || napi_set_element(env, arr, (uint32_t)i, v) != napi_ok) return NULL;
  return arr;
}

static napi_value node_object(napi_env env, const dst_node *nd) {
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
#define DST_SET(f) if (set_num(env, obj, #f, nd->f)) return NULL;
  DST_NODE_INT_FIELDS(DST_SET)
#undef DST_SET
  if (napi_set_named_property(env, obj, "in", int_array(env, nd->in, 2)) != napi_ok ||
      napi_set_named_property(env, obj, "in_shape", shape_object(env, nd->in_shape)) != napi_ok ||
      napi_set_named_property(env, obj, "out_shape", shape_object(env, nd->out_shape)) != napi_ok)
    return NULL;
  return obj;
}

static napi_value step_object(napi_env env, const dst_step *s, const dst_pack_counts *n) {
  napi_value obj, rg, arrays;
  if (napi_create_object(env, &obj) != napi_ok || napi_create_object(env, &rg) != napi_ok || napi_create_object(env, &arrays) != napi_ok) return NULL;
#define DST_SET(f) if (set_num(env, obj, #f, (double)s->f)) return NULL;
  DST_STEP_INT_FIELDS(DST_SET)
  DST_STEP_SIZE_FIELDS(DST_SET)
#undef DST_SET
#define DST_SET(f) if (set_num(env, rg, #f, s->rg.f)) return NULL;
  DST_SET(h) DST_SET(w) DST_SET(c) DST_SET(ph) DST_SET(pw) DST_SET(sh) DST_SET(sw) DST_SET(seg) DST_SET(jq) DST_SET(hq)
#undef DST_SET
  const struct { const char *key; napi_typedarray_type type; const void *src; size_t n, bytes; } a[] = {
    {"w", napi_float32_array, s->w, n->w, 4}, {"bias", napi_float32_array, s->bias, n->bias, 4},
    {"off", napi_int32_array, s->off, n->off, 4}, {"idx", napi_int32_array, s->idx, n->idx, 4},
    {"rowptr", napi_int32_array, s->rowptr, n->rowptr, 4}, {"pidx", napi_uint8_array, s->pidx, n->pidx, 1},
    {"kept", napi_uint8_array, s->kept, n->kept, 1}, {"qw", napi_int8_array, s->qw, n->qw, 1},
    {"qbias", napi_int32_array, s->qbias, n->qbias, 4}, {"qreq", napi_int32_array, s->qreq, n->qreq, 4},
  };
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
    if (napi_set_named_property(env, arrays, a[i].key, typed_copy(env, a[i].type, a[i].src, a[i].n, a[i].bytes)) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, "rg", rg) != napi_ok || napi_set_named_property(env, obj, "arrays", arrays) != napi_ok) return NULL;
  return obj;
}

/*
 * plan(handle) -> { plan, nodes, steps, valAt, border, mean, std }: the plan
 * the engine runs, with each step's packed arrays copied, field names as in
 * plan.h and graph.h, for the C exporter to write as const tables.
 */
static napi_value plan(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[1];
  handle *h = handle_call(env, cbinfo, 1, argv, "plan(handle)");
  if (!h) return NULL;
  const dst_plan *p = dst_engine_plan(h->e);
  const int nv = p->n_nodes + 1;
  napi_value out, head, nodes, steps, border, val_at, v;
  CALL(env, napi_create_object(env, &out));
  CALL(env, napi_create_object(env, &head));
#define DST_SET(f) if (set_num(env, head, #f, (double)p->f)) return throw_msg(env, "node-api call failed");
  DST_PLAN_INT_FIELDS(DST_SET)
  DST_PLAN_SIZE_FIELDS(DST_SET)
  DST_PLAN_FLOAT_FIELDS(DST_SET)
#undef DST_SET
  CALL(env, napi_set_named_property(env, head, "input", shape_object(env, p->input)));
  CALL(env, napi_set_named_property(env, head, "out_shape", shape_object(env, p->out_shape)));
  CALL(env, napi_create_array_with_length(env, (size_t)p->n_nodes, &nodes));
  CALL(env, napi_create_array_with_length(env, (size_t)p->n_nodes, &steps));
  for (int i = 0; i < p->n_nodes; i++) {
    CALL(env, napi_set_element(env, nodes, (uint32_t)i, node_object(env, &p->nodes[i])));
    CALL(env, napi_set_element(env, steps, (uint32_t)i, step_object(env, &p->steps[i], dst_engine_pack_counts(h->e, i))));
  }
  CALL(env, napi_create_array_with_length(env, (size_t)nv, &border));
  CALL(env, napi_create_array_with_length(env, (size_t)nv, &val_at));
  for (int i = 0; i < nv; i++) {
    const int b[2] = {p->border[i].h, p->border[i].w};
    CALL(env, napi_set_element(env, border, (uint32_t)i, int_array(env, b, 2)));
    CALL(env, napi_create_double(env, (double)p->val_at[i], &v));
    CALL(env, napi_set_element(env, val_at, (uint32_t)i, v));
  }
  const char *used[16];
  CALL(env, napi_set_named_property(env, out, "opsUsed", string_array(env, used, dst_plan_ops_used(p, used))));
  CALL(env, napi_set_named_property(env, out, "kernelsUsed", string_array(env, used, dst_plan_kernels_used(p, used))));
  CALL(env, napi_set_named_property(env, out, "plan", head));
  CALL(env, napi_set_named_property(env, out, "nodes", nodes));
  CALL(env, napi_set_named_property(env, out, "steps", steps));
  CALL(env, napi_set_named_property(env, out, "border", border));
  CALL(env, napi_set_named_property(env, out, "valAt", val_at));
  CALL(env, napi_set_named_property(env, out, "mean", typed_copy(env, napi_float32_array, p->mean, (size_t)p->input.c, 4)));
  CALL(env, napi_set_named_property(env, out, "std", typed_copy(env, napi_float32_array, p->std, (size_t)p->input.c, 4)));
  CALL(env, napi_set_named_property(env, out, "qlut", typed_copy(env, napi_int8_array, p->qlut, (size_t)p->input.c * 256, 1)));
  napi_value qnodes;
  if (p->qnodes) {
    CALL(env, napi_create_array_with_length(env, (size_t)p->n_nodes, &qnodes));
    for (int i = 0; i < p->n_nodes; i++) {
      const dst_qnode *q = &p->qnodes[i];
      napi_value o;
      int rq[6];
      for (int k = 0; k < 6; k++) rq[k] = q->rq[k];
      CALL(env, napi_create_object(env, &o));
      if (set_num(env, o, "qs", q->qs) || set_num(env, o, "qz", q->qz)) return throw_msg(env, "node-api call failed");
      CALL(env, napi_set_named_property(env, o, "rq", int_array(env, rq, 6)));
      CALL(env, napi_set_element(env, qnodes, (uint32_t)i, o));
    }
  } else {
    CALL(env, napi_get_null(env, &qnodes));
  }
  CALL(env, napi_set_named_property(env, out, "qnodes", qnodes));
  return out;
}

/* uhpPositions(handle, node) -> Int32Array: per group g and position j, the flat (c, kh, kw) weight index (-1: padding), as reader.c groups a UHP layer; null for another pattern */
static napi_value uhp_positions(napi_env env, napi_callback_info cbinfo) {
  napi_value argv[2];
  handle *h = handle_call(env, cbinfo, 2, argv, "uhpPositions(handle, node)");
  if (!h) return NULL;
  int i;
  CALL(env, napi_get_value_int32(env, argv[1], &i));
  const dst_plan *p = dst_engine_plan(h->e);
  if (i < 0 || i >= p->n_nodes) return throw_msg(env, "node index out of range");
  const dst_node *nd = &p->nodes[i];
  napi_value out;
  if (nd->pattern != DST_PAT_UHP) {
    napi_get_null(env, &out);
    return out;
  }
  const int groups = dst_uhp_groups(nd);
  napi_value buf;
  void *data;
  CALL(env, napi_create_arraybuffer(env, sizeof(int32_t) * (size_t)groups * nd->m, &data, &buf));
  int32_t *pos = data;
  for (int g = 0; g < groups; g++)
    for (int j = 0; j < nd->m; j++) pos[g * nd->m + j] = dst_uhp_position(nd, g, j);
  CALL(env, napi_create_typedarray(env, napi_int32_array, (size_t)groups * nd->m, buf, 0, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
    {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
    {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"setSchedule", NULL, set_schedule, NULL, NULL, NULL, napi_default, NULL},
    {"plan", NULL, plan, NULL, NULL, NULL, napi_default, NULL},
    {"uhpPositions", NULL, uhp_positions, NULL, NULL, NULL, napi_default, NULL},
    {"profile", NULL, profile, NULL, NULL, NULL, napi_default, NULL},
    {"layers", NULL, layers, NULL, NULL, NULL, napi_default, NULL},
    {"dispose", NULL, dispose, NULL, NULL, NULL, napi_default, NULL},
    {"isas", NULL, isas, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
