/* Node-API face of the engine: thin, no policy; the TS side (src/runtime) adds names and error types. */
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* load(bytes: Uint8Array, isa: string, threads: number) -> handle */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t len;
  void *data;
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_uint8_array)
    return throw_msg(env, "load(bytes: Uint8Array, isa: string, threads: number)");
  int isa, threads;
  if (isa_from(env, argv[1], &isa)) return throw_msg(env, "unknown kernel set: use auto, scalar, avx2, avx512 or neon");
  CALL(env, napi_get_value_int32(env, argv[2], &threads));
  char err[320];
  dst_engine *e = dst_engine_load(data, len, isa, threads, err, sizeof err);
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
  dst_engine_run(h->e, in, outp, batch);
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

/* info(handle) -> { inputShape, outputShape, isa, threads, memoryBytes } */
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
  return obj;
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

static napi_value init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
    {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
    {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
    {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"profile", NULL, profile, NULL, NULL, NULL, napi_default, NULL},
    {"layers", NULL, layers, NULL, NULL, NULL, napi_default, NULL},
    {"dispose", NULL, dispose, NULL, NULL, NULL, napi_default, NULL},
    {"isas", NULL, isas, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
