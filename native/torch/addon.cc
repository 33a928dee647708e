// Thin Node-API face of LibTorch: a tensor handle plus the operations dst
// trains and runs CNNs with. Policy (scopes, modules, training) lives in TS.
#include <napi.h>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/torch.h>
#include <torch/version.h>

// The distributed bindings need Gloo's headers (Debian: libgloo-dev); without
// them the addon still builds and distAvailable() reports false.
#if __has_include(<gloo/config.h>)
#define DST_HAVE_GLOO 1
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#else
#define DST_HAVE_GLOO 0
#endif

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::atomic<int64_t> g_live{0};

// A tensor handle is a plain JS object of class TensorHandle carrying a
// heap-allocated torch::Tensor through napi_wrap. dispose() takes the tensor
// back with napi_remove_wrap, which also deletes the wrap's reference, so no
// native memory waits for the garbage collector: Node defers wrap finalizers to
// the event loop, and a synchronous training loop never reaches it. The
// finalizer only frees handles that were never disposed.
Napi::FunctionReference g_handle_class;

void FreeUndisposed(napi_env, void* data, void*) {
  delete static_cast<torch::Tensor*>(data);
  g_live--;
}

void InitHandleClass(Napi::Env env, Napi::Object exports) {
  Napi::Function fn = Napi::Function::New(
      env, [](const Napi::CallbackInfo& info) -> Napi::Value { return info.This(); }, "TensorHandle");
  g_handle_class = Napi::Persistent(fn);
  g_handle_class.SuppressDestruct();
  exports.Set("TensorHandle", fn);
}

Napi::Object Wrap(Napi::Env env, torch::Tensor t) {
  Napi::Object obj = g_handle_class.New({});
  auto* held = new torch::Tensor(std::move(t));
  napi_status status = napi_wrap(env, obj, held, FreeUndisposed, nullptr, nullptr);
  if (status != napi_ok) {
    delete held;
    NAPI_THROW_IF_FAILED(env, status, obj);
  }
  g_live++;
  return obj;
}

bool IsHandle(const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(g_handle_class.Value());
}

// The wrapped tensor, or nullptr once the handle was disposed.
torch::Tensor* Held(const Napi::Value& v) {
  void* data = nullptr;
  if (napi_unwrap(v.Env(), v, &data) != napi_ok) return nullptr;
  return static_cast<torch::Tensor*>(data);
}

void Dispose(const Napi::Value& v) {
  if (!IsHandle(v)) throw Napi::TypeError::New(v.Env(), "expected a tensor");
  void* data = nullptr;
  if (napi_remove_wrap(v.Env(), v, &data) != napi_ok) return;
  delete static_cast<torch::Tensor*>(data);
  g_live--;
}

// c10 messages carry a C++ backtrace after the first line; users need the first line only.
[[noreturn]] void Rethrow(Napi::Env env, const c10::Error& e) {
  throw Napi::Error::New(env, e.what_without_backtrace());
}

torch::Tensor& T(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!IsHandle(v)) throw Napi::TypeError::New(env, "expected a tensor");
  torch::Tensor* t = Held(v);
  if (t == nullptr) throw Napi::Error::New(env, "tensor was disposed");
  return *t;
}

c10::optional<torch::Tensor> OptT(const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return c10::nullopt;
  return T(v);
}

std::vector<int64_t> Ints(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

std::vector<torch::Tensor> Tensors(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<torch::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(T(a.Get(i)));
  return out;
}

double Num(const Napi::Value& v) { return v.As<Napi::Number>().DoubleValue(); }
int64_t Int(const Napi::Value& v) { return v.As<Napi::Number>().Int64Value(); }
bool Bool(const Napi::Value& v) { return v.ToBoolean().Value(); }

torch::ScalarType Dtype(const Napi::Value& v) {
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "float32") return torch::kFloat32;
  if (s == "float64") return torch::kFloat64;
  if (s == "int64") return torch::kInt64;
  if (s == "int32") return torch::kInt32;
  if (s == "uint8") return torch::kUInt8;
  if (s == "bool") return torch::kBool;
  throw Napi::TypeError::New(v.Env(), "unknown dtype '" + s + "'");
}

const char* DtypeName(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return "unsupported";
  }
}

// Tensor or JS number on the right-hand side of a binary op.
bool IsScalar(const Napi::Value& v) { return v.IsNumber() || v.IsBoolean(); }
torch::Scalar Sc(const Napi::Value& v) {
  if (v.IsBoolean()) return torch::Scalar(v.As<Napi::Boolean>().Value());
  // Integral values stay integral so in-place ops on int64 tensors (step counters) keep their dtype.
  double d = Num(v);
  if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0) return torch::Scalar(static_cast<int64_t>(d));
  return torch::Scalar(d);
}

using Fn = std::function<Napi::Value(const Napi::CallbackInfo&)>;

void Def(Napi::Env env, Napi::Object exports, const char* name, Fn fn) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return fn(info);
                          } catch (const c10::Error& e) {
                            Rethrow(info.Env(), e);
                          } catch (const std::exception& e) {
                            if (dynamic_cast<const Napi::Error*>(&e) != nullptr) throw;
                            throw Napi::Error::New(info.Env(), e.what());
                          }
                        },
                        name));
}

#define DEF(name) Def(env, exports, #name, [](const Napi::CallbackInfo& info) -> Napi::Value
#define ENV info.Env()
#define RET(expr) return Wrap(ENV, (expr))
#define ARG(i) info[i]

// Creates a tensor that owns a copy of a TypedArray's bytes.
torch::Tensor FromTypedArray(const Napi::TypedArray& arr, const std::vector<int64_t>& shape, torch::ScalarType dtype) {
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  size_t bytes = static_cast<size_t>(t.nbytes());
  if (bytes != arr.ByteLength()) {
    throw Napi::RangeError::New(arr.Env(), "data has " + std::to_string(arr.ByteLength()) + " bytes, shape needs " +
                                               std::to_string(bytes));
  }
  const uint8_t* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  if (bytes > 0) std::memcpy(t.data_ptr(), src, bytes);
  return t;
}

Napi::Value ToTypedArray(Napi::Env env, const torch::Tensor& in) {
  torch::Tensor t = in.detach().contiguous();
  size_t n = static_cast<size_t>(t.numel());
  size_t bytes = static_cast<size_t>(t.nbytes());
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  switch (t.scalar_type()) {
    case torch::kFloat32: return Napi::Float32Array::New(env, n, buf, 0);
    case torch::kFloat64: return Napi::Float64Array::New(env, n, buf, 0);
    case torch::kInt64: return Napi::BigInt64Array::New(env, n, buf, 0);
    case torch::kInt32: return Napi::Int32Array::New(env, n, buf, 0);
    case torch::kUInt8:
    case torch::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw Napi::TypeError::New(env, "unsupported dtype");
  }
}

Napi::Array IntArray(Napi::Env env, c10::IntArrayRef v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(v[i])));
  return a;
}

Napi::Array Pair(Napi::Env env, torch::Tensor a, torch::Tensor b) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Wrap(env, std::move(a)));
  out.Set(1u, Wrap(env, std::move(b)));
  return out;
}


// The capability getter is not exported by Debian's build; show_config() states it.
std::string IsaName() {
  const std::string config = at::show_config();
  const std::string key = "CPU capability usage: ";
  size_t at = config.find(key);
  if (at == std::string::npos) return "unknown";
  size_t end = config.find('\n', at);
  return config.substr(at + key.size(), end == std::string::npos ? std::string::npos : end - at - key.size());
}

#if DST_HAVE_GLOO
// One process group: the rendezvous store (hosted by rank 0) and the Gloo
// backend on top of it. JS holds it as an External; destroy() drops both early,
// the finalizer covers groups that were never destroyed.
struct Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;
  int rank;
  int size;
  // After a failed collective Gloo's threads may still wait on a dead peer;
  // the backend is then leaked rather than destroyed, since its destructor
  // would join those threads and hold the process for the whole time-out.
  bool failed = false;
};

// The store key a rank sets when a collective fails, so that the ranks still
// waiting on it (on a live peer that gave up) stop within a slice, not at the time-out.
const char* const kFailedKey = "dst/failed";
constexpr std::chrono::milliseconds kWaitSlice{500};

// The group with its Gloo backend, for collectives.
Group& G(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsExternal()) throw Napi::TypeError::New(env, "expected a process group");
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g->store) throw Napi::Error::New(env, "process group was destroyed");
  if (!g->pg) throw Napi::Error::New(env, "process group has no backend yet (distConnect)");
  return *g;
}

// The group before or after its backend exists, for the store's keys.
Group& GS(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsExternal()) throw Napi::TypeError::New(env, "expected a process group");
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g->store) throw Napi::Error::New(env, "process group was destroyed");
  return *g;
}

// Gloo reports on one line prefixed with its source location; c10 adds a backtrace after it.
std::string FirstLine(const std::string& what) {
  std::string line = what.substr(0, what.find('\n'));
  if (!line.empty() && line[0] == '[') {
    size_t close = line.find("] ");
    if (close != std::string::npos) line = line.substr(close + 2);
  }
  return line;
}

// Gloo's own time-outs (the same length as ours) are said as ours.
std::string TimeoutSaidAsOurs(const Group& g, const std::string& what) {
  if (what.rfind("Operation timed out", 0) == 0 || what.rfind("Timed out waiting", 0) == 0) {
    return "timed out after " + std::to_string(g.timeout.count()) + " ms";
  }
  return what;
}

// Waits for a work in slices, bounded by the group's time-out: between slices,
// a failure another rank reported through the store ends the wait too. Throws
// std::runtime_error (time-out, stop) or the work's own c10::Error.
void WaitBounded(Group& g, const c10::intrusive_ptr<c10d::Work>& w, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    // wait() throws alike for a slice that ran out and for a failed work, and a
    // work may complete just after its slice ran out: only a work that had
    // completed before the call tells a failure by throwing.
    const bool done = w->isCompleted();
    try {
      w->wait(kWaitSlice);
      return;
    } catch (const c10::Error& e) {
      if (done) throw;
    }
    if (w->isCompleted()) continue;
    if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("timed out after " + std::to_string(g.timeout.count()) + " ms");
    if (g.store->check({kFailedKey})) throw std::runtime_error("stopped: another rank reported a failure");
  }
}

// Runs one collective (enqueue + bounded wait for every work it returns); any
// failure, a time-out or a lost peer alike, marks the group failed and becomes
// one std::runtime_error line naming the operation and this rank.
template <typename Enqueue>
void RunCollective(Group& g, const char* op, Enqueue enqueue) {
  auto line = [&](const std::string& why) {
    g.failed = true;
    return std::runtime_error(std::string(op) + " failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ": " + why);
  };
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> works = enqueue();
    auto deadline = std::chrono::steady_clock::now() + g.timeout;
    for (auto& w : works) WaitBounded(g, w, deadline);
  } catch (const c10::Error& e) {
    throw line(TimeoutSaidAsOurs(g, FirstLine(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    throw line(TimeoutSaidAsOurs(g, FirstLine(e.what())));
  }
}

// RunCollective for the JS-facing bindings.
template <typename Enqueue>
void Collective(Napi::Env env, Group& g, const char* op, Enqueue enqueue) {
  try {
    RunCollective(g, op, enqueue);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// One store operation; a failure (the store's host gone, a time-out) becomes one line naming it and this rank.
template <typename Fn>
void StoreCall(Napi::Env env, Group& g, const char* op, Fn fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(op) + " failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ": " +
                                    FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(op) + " failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + ": " +
                                    FirstLine(e.what()));
  }
}

// Sums float32 tensors over the group in place, for collectives issued from
// inside autograd (sync BatchNorm), where there is no Napi env to throw with.
void AllReduceSum(Group& g, std::vector<torch::Tensor>& ts, const char* op) {
  RunCollective(g, op, [&] {
    c10d::AllreduceCoalescedOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = g.timeout;
    return std::vector<c10::intrusive_ptr<c10d::Work>>{g.pg->allreduce_coalesced(ts, o)};
  });
}

// BatchNorm over the images of every rank (PyTorch's SyncBatchNorm): the
// forward pass all-reduces per-channel sums (two passes, mean then centred
// squares, as exact as one process's two-pass statistics); the backward pass
// all-reduces the two per-channel gradient sums the input gradient needs.
// Each rank's loss is a mean over its own images, weighted in the gradient
// all-reduce by its share of the global batch; the input gradient here is
// that of the global mean divided by the same share, so the two agree.
struct SyncBatchNormFn : public torch::autograd::Function<SyncBatchNormFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor weight, torch::Tensor bias,
                               torch::Tensor runningMean, torch::Tensor runningVar, double momentum, double eps, int64_t group) {
    Group& g = *reinterpret_cast<Group*>(group);
    const int64_t c = x.size(1);
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < x.dim(); d++) dims.push_back(d);
    std::vector<int64_t> shape(x.dim(), 1);
    shape[1] = c;
    torch::Tensor xc = x.contiguous();
    const double local = static_cast<double>(x.numel() / c);
    std::vector<torch::Tensor> first{torch::cat({xc.sum(dims), torch::full({1}, local, x.options())})};
    AllReduceSum(g, first, "syncBatchNorm");
    const double total = first[0][c].item<double>();
    torch::Tensor mean = first[0].narrow(0, 0, c) / total;
    torch::Tensor xmu = xc - mean.view(shape);
    std::vector<torch::Tensor> second{(xmu * xmu).sum(dims)};
    AllReduceSum(g, second, "syncBatchNorm");
    torch::Tensor var = second[0] / total;
    torch::Tensor invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      if (runningMean.defined()) runningMean.mul_(1 - momentum).add_(mean, momentum);
      if (runningVar.defined()) runningVar.mul_(1 - momentum).add_(var * (total / std::max(total - 1, 1.0)), momentum);
    }
    torch::Tensor xhat = xmu * invstd.view(shape);
    torch::Tensor y = xhat;
    if (weight.defined()) y = y * weight.view(shape);
    if (bias.defined()) y = y + bias.view(shape);
    ctx->save_for_backward({xhat, invstd, weight});
    ctx->saved_data["share"] = local / total;
    ctx->saved_data["total"] = total;
    ctx->saved_data["group"] = group;
    ctx->saved_data["hasBias"] = bias.defined();
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor xhat = saved[0], invstd = saved[1], weight = saved[2];
    Group& g = *reinterpret_cast<Group*>(ctx->saved_data["group"].toInt());
    const double share = ctx->saved_data["share"].toDouble();
    const double total = ctx->saved_data["total"].toDouble();
    const int64_t c = xhat.size(1);
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < xhat.dim(); d++) dims.push_back(d);
    std::vector<int64_t> shape(xhat.dim(), 1);
    shape[1] = c;
    torch::Tensor dy = grads[0].contiguous();
    torch::Tensor sumDy = dy.sum(dims);
    torch::Tensor sumDyXhat = (dy * xhat).sum(dims);
    std::vector<torch::Tensor> both{torch::cat({sumDy, sumDyXhat}) * share};
    AllReduceSum(g, both, "syncBatchNorm backward");
    torch::Tensor meanDy = both[0].narrow(0, 0, c) / total;
    torch::Tensor meanDyXhat = both[0].narrow(0, c, c) / total;
    torch::Tensor scale = weight.defined() ? invstd * weight : invstd;
    torch::Tensor dx = (dy - (meanDy.view(shape) + xhat * meanDyXhat.view(shape)) / share) * scale.view(shape);
    // Affine gradients stay this rank's own: the gradient all-reduce weights and sums them like every other parameter's.
    return {dx, weight.defined() ? sumDyXhat : torch::Tensor(), ctx->saved_data["hasBias"].toBool() ? sumDy : torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Gloo reads and writes the tensors' memory in place: dense, contiguous float32 only.
std::vector<torch::Tensor> CollectiveTensors(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) throw Napi::TypeError::New(env, "expected an array of tensors");
  std::vector<torch::Tensor> out = Tensors(v);
  for (const auto& t : out) {
    if (t.scalar_type() != torch::kFloat32 || !t.is_contiguous()) {
      throw Napi::TypeError::New(env, "collectives take contiguous float32 tensors");
    }
  }
  return out;
}

std::shared_ptr<::gloo::transport::Device> GlooDevice(const std::string& iface, const std::string& host) {
  if (!iface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(iface);
  if (!host.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(host);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

void DefDistributed(Napi::Env env, Napi::Object exports) {
  // distStore(rank, size, masterAddr, masterPort, timeoutMs): rank 0 hosts the
  // rendezvous store, the others connect to it (bounded by the timeout). The
  // backend comes separately (distConnect), so that TS can first check through
  // the store that all ranks agree on world size and version: a mismatch would
  // otherwise only show as Gloo's rendezvous timing out.
  DEF(distStore) {
    auto g = std::make_unique<Group>();
    g->rank = static_cast<int>(Int(ARG(0)));
    g->size = static_cast<int>(Int(ARG(1)));
    std::string addr = ARG(2).As<Napi::String>().Utf8Value();
    g->timeout = std::chrono::milliseconds(Int(ARG(4)));
    std::string where = addr + ":" + std::to_string(Int(ARG(3)));
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(Int(ARG(3)));
      so.isServer = g->rank == 0;
      so.numWorkers = static_cast<std::size_t>(g->size);
      so.waitWorkers = false;
      so.timeout = g->timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
    } catch (const c10::Error& e) {
      throw Napi::Error::New(ENV, std::string(g->rank == 0 ? "hosting" : "connecting to") + " the store at " + where + " failed on rank " +
                                      std::to_string(g->rank) + " of " + std::to_string(g->size) + ": " + FirstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw Napi::Error::New(ENV, std::string(g->rank == 0 ? "hosting" : "connecting to") + " the store at " + where + " failed on rank " +
                                      std::to_string(g->rank) + " of " + std::to_string(g->size) + ": " + FirstLine(e.what()));
    }
    return Napi::External<Group>::New(ENV, g.release(), [](Napi::Env, Group* p) {
      if (p->failed) p->pg.release();
      delete p;
    });
  });
  // distConnect(group, iface, host): the Gloo backend over the group's store; blocks until every rank joined or the timeout.
  DEF(distConnect) {
    Group& g = GS(ARG(0));
    std::string stage = "creating the Gloo device";
    try {
      auto opts = c10d::ProcessGroupGloo::Options::create(g.timeout);
      opts->devices.push_back(GlooDevice(ARG(1).As<Napi::String>().Utf8Value(), ARG(2).As<Napi::String>().Utf8Value()));
      stage = "joining the other ranks";
      g.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g.store, g.rank, g.size, opts);
    } catch (const c10::Error& e) {
      throw Napi::Error::New(ENV, "initProcessGroup failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + " " + stage + ": " +
                                      FirstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw Napi::Error::New(ENV, "initProcessGroup failed on rank " + std::to_string(g.rank) + " of " + std::to_string(g.size) + " " + stage + ": " +
                                      FirstLine(e.what()));
    }
    return ENV.Undefined();
  });
  // distStoreSet(group, key, value): a string under key in rank 0's store.
  DEF(distStoreSet) {
    Group& g = GS(ARG(0));
    std::string key = ARG(1).As<Napi::String>().Utf8Value();
    std::string value = ARG(2).As<Napi::String>().Utf8Value();
    StoreCall(ENV, g, "store set", [&] { g.store->set(key, std::vector<uint8_t>(value.begin(), value.end())); });
    return ENV.Undefined();
  });
  // distStoreGet(group, key, timeoutMs): the string under key, waiting for it at most timeoutMs; null when it never came.
  DEF(distStoreGet) {
    Group& g = GS(ARG(0));
    std::string key = ARG(1).As<Napi::String>().Utf8Value();
    auto wait = std::chrono::milliseconds(Int(ARG(2)));
    std::vector<uint8_t> value;
    bool found = true;
    StoreCall(ENV, g, "store get", [&] {
      try {
        g.store->wait({key}, wait);
      } catch (const c10::Error& e) {
        // TCPStore reports a wait that ran out as an error; only a time-out means "not there".
        if (std::string(e.what_without_backtrace()).find("imeout") == std::string::npos &&
            std::string(e.what_without_backtrace()).find("imed out") == std::string::npos) {
          throw;
        }
        found = false;
        return;
      }
      value = g.store->get(key);
    });
    if (!found) return ENV.Null();
    return Napi::String::New(ENV, std::string(value.begin(), value.end()));
  });
  // distStoreAdd(group, key, delta): atomically adds delta to the counter under key and returns the new value.
  DEF(distStoreAdd) {
    Group& g = GS(ARG(0));
    std::string key = ARG(1).As<Napi::String>().Utf8Value();
    int64_t delta = Int(ARG(2));
    int64_t out = 0;
    StoreCall(ENV, g, "store add", [&] { out = g.store->add(key, delta); });
    return Napi::Number::New(ENV, static_cast<double>(out));
  });
  // distAllReduce(group, tensors): element-wise sum over the ranks, in place, as one coalesced collective.
  DEF(distAllReduce) {
    Group& g = G(ARG(0));
    std::vector<torch::Tensor> ts = CollectiveTensors(ARG(1));
    if (ts.empty()) return ENV.Undefined();
    Collective(ENV, g, "allReduce", [&] {
      c10d::AllreduceCoalescedOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      o.timeout = g.timeout;
      return std::vector<c10::intrusive_ptr<c10d::Work>>{g.pg->allreduce_coalesced(ts, o)};
    });
    return ENV.Undefined();
  });
  // distBroadcast(group, tensors, root): one broadcast per tensor, since c10d reads a list as one tensor per device.
  DEF(distBroadcast) {
    Group& g = G(ARG(0));
    std::vector<torch::Tensor> ts = CollectiveTensors(ARG(1));
    int64_t root = Int(ARG(2));
    Collective(ENV, g, "broadcast", [&] {
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (auto& t : ts) {
        std::vector<torch::Tensor> one{t};
        c10d::BroadcastOptions o;
        o.rootRank = root;
        o.timeout = g.timeout;
        works.push_back(g.pg->broadcast(one, o));
      }
      return works;
    });
    return ENV.Undefined();
  });
  DEF(distBarrier) {
    Group& g = G(ARG(0));
    Collective(ENV, g, "barrier", [&] {
      c10d::BarrierOptions o;
      o.timeout = g.timeout;
      return std::vector<c10::intrusive_ptr<c10d::Work>>{g.pg->barrier(o)};
    });
    return ENV.Undefined();
  });
  // distSyncBatchNorm(group, x, weight|null, bias|null, runningMean, runningVar, momentum, eps): training-mode BatchNorm over all ranks' images.
  DEF(distSyncBatchNorm) {
    Group& g = G(ARG(0));
    auto weight = OptT(ARG(2));
    auto bias = OptT(ARG(3));
    RET(SyncBatchNormFn::apply(T(ARG(1)), weight.has_value() ? *weight : torch::Tensor(), bias.has_value() ? *bias : torch::Tensor(), T(ARG(4)),
                               T(ARG(5)), Num(ARG(6)), Num(ARG(7)), reinterpret_cast<int64_t>(&g)));
  });
  // The backend before the store: its destructor drains the work queue, which no longer needs the store.
  DEF(distDestroy) {
    Group& g = GS(ARG(0));
    if (g.failed) g.pg.release();
    g.pg.reset();
    g.store.reset();
    return ENV.Undefined();
  });
}
#endif

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitHandleClass(env, exports);

  // ---- lifetime and introspection ----
  DEF(liveTensors) { return Napi::Number::New(ENV, static_cast<double>(g_live.load())); });
  DEF(dispose) {
    Dispose(ARG(0));
    return ENV.Undefined();
  });
  DEF(isDisposed) {
    if (!IsHandle(ARG(0))) throw Napi::TypeError::New(ENV, "expected a tensor");
    return Napi::Boolean::New(ENV, Held(ARG(0)) == nullptr);
  });
  DEF(shape) { return IntArray(ENV, T(ARG(0)).sizes()); });
  DEF(dtype) { return Napi::String::New(ENV, DtypeName(T(ARG(0)).scalar_type())); });
  DEF(numel) { return Napi::Number::New(ENV, static_cast<double>(T(ARG(0)).numel())); });
  DEF(toTypedArray) { return ToTypedArray(ENV, T(ARG(0))); });
  DEF(item) { return Napi::Number::New(ENV, T(ARG(0)).item().toDouble()); });
  DEF(toString) {
    std::ostringstream os;
    os << T(ARG(0));
    return Napi::String::New(ENV, os.str());
  });
  DEF(fromTypedArray) { RET(FromTypedArray(ARG(0).As<Napi::TypedArray>(), Ints(ARG(1)), Dtype(ARG(2)))); });

  // ---- autograd ----
  DEF(requiresGrad) { return Napi::Boolean::New(ENV, T(ARG(0)).requires_grad()); });
  DEF(setRequiresGrad) {
    T(ARG(0)).requires_grad_(Bool(ARG(1)));
    return ENV.Undefined();
  });
  DEF(backward) {
    auto g = OptT(ARG(1));
    T(ARG(0)).backward(g.has_value() ? *g : torch::Tensor());
    return ENV.Undefined();
  });
  DEF(grad) {
    const torch::Tensor& g = T(ARG(0)).grad();
    if (!g.defined()) return ENV.Null();
    RET(g);
  });
  DEF(clearGrad) {
    T(ARG(0)).mutable_grad().reset();
    return ENV.Undefined();
  });
  DEF(isGradEnabled) { return Napi::Boolean::New(ENV, at::GradMode::is_enabled()); });
  DEF(setGradEnabled) {
    at::GradMode::set_enabled(Bool(ARG(0)));
    return ENV.Undefined();
  });
  DEF(detach) { RET(T(ARG(0)).detach()); });
  DEF(clone) { RET(T(ARG(0)).clone()); });
  DEF(toDtype) { RET(T(ARG(0)).to(Dtype(ARG(1)))); });

  // ---- creation and randomness ----
  DEF(zeros) { RET(torch::zeros(Ints(ARG(0)), Dtype(ARG(1)))); });
  DEF(ones) { RET(torch::ones(Ints(ARG(0)), Dtype(ARG(1)))); });
  DEF(full) { RET(torch::full(Ints(ARG(0)), Sc(ARG(1)), Dtype(ARG(2)))); });
  DEF(arange) { RET(torch::arange(Sc(ARG(0)), Sc(ARG(1)), Sc(ARG(2)), Dtype(ARG(3)))); });
  DEF(rand) { RET(torch::rand(Ints(ARG(0)), Dtype(ARG(1)))); });
  DEF(randn) { RET(torch::randn(Ints(ARG(0)), Dtype(ARG(1)))); });
  DEF(randint) { RET(torch::randint(Int(ARG(0)), Int(ARG(1)), Ints(ARG(2)), torch::kInt64)); });
  DEF(randperm) { RET(torch::randperm(Int(ARG(0)), torch::kInt64)); });
  DEF(manualSeed) {
    torch::manual_seed(static_cast<uint64_t>(Int(ARG(0))));
    return ENV.Undefined();
  });

  // ---- elementwise ----
  DEF(add) { RET(IsScalar(ARG(1)) ? torch::add(T(ARG(0)), Sc(ARG(1))) : torch::add(T(ARG(0)), T(ARG(1)))); });
  DEF(sub) { RET(IsScalar(ARG(1)) ? torch::sub(T(ARG(0)), Sc(ARG(1))) : torch::sub(T(ARG(0)), T(ARG(1)))); });
  DEF(mul) { RET(IsScalar(ARG(1)) ? torch::mul(T(ARG(0)), Sc(ARG(1))) : torch::mul(T(ARG(0)), T(ARG(1)))); });
  DEF(div) { RET(IsScalar(ARG(1)) ? torch::div(T(ARG(0)), Sc(ARG(1))) : torch::div(T(ARG(0)), T(ARG(1)))); });
  // In-place variants return nothing: the handle on the JS side already names the result.
  DEF(add_) {
    if (IsScalar(ARG(1))) T(ARG(0)).add_(Sc(ARG(1)));
    else T(ARG(0)).add_(T(ARG(1)), info.Length() > 2 ? Sc(ARG(2)) : torch::Scalar(1));
    return ENV.Undefined();
  });
  DEF(sub_) {
    if (IsScalar(ARG(1))) T(ARG(0)).sub_(Sc(ARG(1)));
    else T(ARG(0)).sub_(T(ARG(1)));
    return ENV.Undefined();
  });
  DEF(mul_) {
    if (IsScalar(ARG(1))) T(ARG(0)).mul_(Sc(ARG(1)));
    else T(ARG(0)).mul_(T(ARG(1)));
    return ENV.Undefined();
  });
  DEF(div_) {
    if (IsScalar(ARG(1))) T(ARG(0)).div_(Sc(ARG(1)));
    else T(ARG(0)).div_(T(ARG(1)));
    return ENV.Undefined();
  });
  DEF(copy_) {
    T(ARG(0)).copy_(T(ARG(1)));
    return ENV.Undefined();
  });
  DEF(fill_) {
    T(ARG(0)).fill_(Sc(ARG(1)));
    return ENV.Undefined();
  });
  DEF(relu_) {
    T(ARG(0)).relu_();
    return ENV.Undefined();
  });
  DEF(neg) { RET(torch::neg(T(ARG(0)))); });
  DEF(abs) { RET(torch::abs(T(ARG(0)))); });
  DEF(sqrt) { RET(torch::sqrt(T(ARG(0)))); });
  DEF(exp) { RET(torch::exp(T(ARG(0)))); });
  DEF(log) { RET(torch::log(T(ARG(0)))); });
  DEF(sign) { RET(torch::sign(T(ARG(0)))); });
  DEF(pow) { RET(IsScalar(ARG(1)) ? torch::pow(T(ARG(0)), Sc(ARG(1))) : torch::pow(T(ARG(0)), T(ARG(1)))); });
  DEF(clamp) {
    c10::optional<torch::Scalar> lo, hi;
    if (!ARG(1).IsNull() && !ARG(1).IsUndefined()) lo = Sc(ARG(1));
    if (!ARG(2).IsNull() && !ARG(2).IsUndefined()) hi = Sc(ARG(2));
    RET(torch::clamp(T(ARG(0)), lo, hi));
  });
  DEF(eq) { RET(IsScalar(ARG(1)) ? torch::eq(T(ARG(0)), Sc(ARG(1))) : torch::eq(T(ARG(0)), T(ARG(1)))); });
  DEF(ne) { RET(IsScalar(ARG(1)) ? torch::ne(T(ARG(0)), Sc(ARG(1))) : torch::ne(T(ARG(0)), T(ARG(1)))); });
  DEF(lt) { RET(IsScalar(ARG(1)) ? torch::lt(T(ARG(0)), Sc(ARG(1))) : torch::lt(T(ARG(0)), T(ARG(1)))); });
  DEF(le) { RET(IsScalar(ARG(1)) ? torch::le(T(ARG(0)), Sc(ARG(1))) : torch::le(T(ARG(0)), T(ARG(1)))); });
  DEF(gt) { RET(IsScalar(ARG(1)) ? torch::gt(T(ARG(0)), Sc(ARG(1))) : torch::gt(T(ARG(0)), T(ARG(1)))); });
  DEF(ge) { RET(IsScalar(ARG(1)) ? torch::ge(T(ARG(0)), Sc(ARG(1))) : torch::ge(T(ARG(0)), T(ARG(1)))); });
  DEF(where) {
    const torch::Tensor& c = T(ARG(0));
    if (IsScalar(ARG(1)) && IsScalar(ARG(2))) {
      auto a = torch::scalar_tensor(Sc(ARG(1)), torch::kFloat32);
      RET(torch::where(c, a, torch::scalar_tensor(Sc(ARG(2)), torch::kFloat32)));
    }
    if (IsScalar(ARG(1))) RET(torch::where(c, Sc(ARG(1)), T(ARG(2))));
    if (IsScalar(ARG(2))) RET(torch::where(c, T(ARG(1)), Sc(ARG(2))));
    RET(torch::where(c, T(ARG(1)), T(ARG(2))));
  });
  DEF(matmul) { RET(torch::matmul(T(ARG(0)), T(ARG(1)))); });

  // ---- reductions ----
  DEF(sum) {
    if (ARG(1).IsUndefined() || ARG(1).IsNull()) RET(T(ARG(0)).sum());
    RET(T(ARG(0)).sum(Ints(ARG(1)), Bool(ARG(2))));
  });
  DEF(mean) {
    if (ARG(1).IsUndefined() || ARG(1).IsNull()) RET(T(ARG(0)).mean());
    RET(T(ARG(0)).mean(Ints(ARG(1)), Bool(ARG(2))));
  });
  DEF(maxAll) { RET(T(ARG(0)).max()); });
  DEF(minAll) { RET(T(ARG(0)).min()); });
  DEF(maxDim) {
    auto r = T(ARG(0)).max(Int(ARG(1)), Bool(ARG(2)));
    return Pair(ENV, std::get<0>(r), std::get<1>(r));
  });
  DEF(argmax) { RET(T(ARG(0)).argmax(Int(ARG(1)), Bool(ARG(2)))); });
  DEF(topk) {
    auto r = T(ARG(0)).topk(Int(ARG(1)), Int(ARG(2)), Bool(ARG(3)), true);
    return Pair(ENV, std::get<0>(r), std::get<1>(r));
  });

  // ---- shape ----
  DEF(reshape) { RET(T(ARG(0)).reshape(Ints(ARG(1)))); });
  DEF(view) { RET(T(ARG(0)).view(Ints(ARG(1)))); });
  DEF(permute) { RET(T(ARG(0)).permute(Ints(ARG(1)))); });
  DEF(transpose) { RET(T(ARG(0)).transpose(Int(ARG(1)), Int(ARG(2)))); });
  DEF(contiguous) { RET(T(ARG(0)).contiguous()); });
  DEF(flatten) { RET(T(ARG(0)).flatten(Int(ARG(1)), Int(ARG(2)))); });
  DEF(unsqueeze) { RET(T(ARG(0)).unsqueeze(Int(ARG(1)))); });
  DEF(squeeze) { RET(T(ARG(0)).squeeze(Int(ARG(1)))); });
  DEF(cat) { RET(torch::cat(Tensors(ARG(0)), Int(ARG(1)))); });
  DEF(stack) { RET(torch::stack(Tensors(ARG(0)), Int(ARG(1)))); });
  DEF(narrow) { RET(T(ARG(0)).narrow(Int(ARG(1)), Int(ARG(2)), Int(ARG(3)))); });
  DEF(indexSelect) { RET(T(ARG(0)).index_select(Int(ARG(1)), T(ARG(2)))); });
  DEF(pad) { RET(torch::constant_pad_nd(T(ARG(0)), Ints(ARG(1)), Sc(ARG(2)))); });
  DEF(flip) { RET(T(ARG(0)).flip(Ints(ARG(1)))); });

  // ---- neural network ----
  // conv2d(x, w, b|null, stride[2], padding[2], dilation[2], groups)
  DEF(conv2d) {
    RET(torch::conv2d(T(ARG(0)), T(ARG(1)), OptT(ARG(2)), Ints(ARG(3)), Ints(ARG(4)), Ints(ARG(5)), Int(ARG(6))));
  });
  // batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps)
  DEF(batchNorm) {
    RET(torch::batch_norm(T(ARG(0)), OptT(ARG(1)), OptT(ARG(2)), OptT(ARG(3)), OptT(ARG(4)), Bool(ARG(5)), Num(ARG(6)),
                          Num(ARG(7)), at::globalContext().userEnabledCuDNN()));
  });
  DEF(relu) { RET(torch::relu(T(ARG(0)))); });
  DEF(maxPool2d) {
    RET(torch::max_pool2d(T(ARG(0)), Ints(ARG(1)), Ints(ARG(2)), Ints(ARG(3)), Ints(ARG(4)), Bool(ARG(5))));
  });
  DEF(avgPool2d) {
    RET(torch::avg_pool2d(T(ARG(0)), Ints(ARG(1)), Ints(ARG(2)), Ints(ARG(3)), Bool(ARG(4)), Bool(ARG(5))));
  });
  DEF(adaptiveAvgPool2d) { RET(torch::adaptive_avg_pool2d(T(ARG(0)), Ints(ARG(1)))); });
  DEF(linear) { RET(torch::linear(T(ARG(0)), T(ARG(1)), OptT(ARG(2)))); });
  DEF(dropout) { RET(torch::dropout(T(ARG(0)), Num(ARG(1)), Bool(ARG(2)))); });
  DEF(softmax) { RET(torch::softmax(T(ARG(0)), Int(ARG(1)))); });
  DEF(logSoftmax) { RET(torch::log_softmax(T(ARG(0)), Int(ARG(1)))); });
  // crossEntropy(logits, target, reduction: 0 none | 1 mean | 2 sum, labelSmoothing)
  DEF(crossEntropy) {
    RET(torch::cross_entropy_loss(T(ARG(0)), T(ARG(1)), {}, Int(ARG(2)), -100, Num(ARG(3))));
  });
  // klDiv(input log-probs, target, reduction: 0 none | 1 mean | 2 sum | 3 batchmean, logTarget)
  DEF(klDiv) {
    const torch::Tensor& x = T(ARG(0));
    int64_t red = Int(ARG(2));
    if (red == 3) RET(torch::kl_div(x, T(ARG(1)), at::Reduction::Sum, Bool(ARG(3))) / x.size(0));
    RET(torch::kl_div(x, T(ARG(1)), red, Bool(ARG(3))));
  });
  // Quantization-aware training: round to the int8 grid forward, straight-through (zero outside the grid) backward.
  // fakeQuantizePerTensor(x, scale, zeroPoint, quantMin, quantMax)
  DEF(fakeQuantizePerTensor) {
    RET(torch::fake_quantize_per_tensor_affine(T(ARG(0)), Num(ARG(1)), Int(ARG(2)), Int(ARG(3)), Int(ARG(4))));
  });
  // fakeQuantizePerChannel(x, scales float32[C], zeroPoints int32[C], axis, quantMin, quantMax)
  DEF(fakeQuantizePerChannel) {
    RET(torch::fake_quantize_per_channel_affine(T(ARG(0)), T(ARG(1)), T(ARG(2)), Int(ARG(3)), Int(ARG(4)), Int(ARG(5))));
  });

  // ---- threads and build facts ----
  DEF(getNumThreads) { return Napi::Number::New(ENV, at::get_num_threads()); });
  DEF(setNumThreads) {
    at::set_num_threads(static_cast<int>(Int(ARG(0))));
    return ENV.Undefined();
  });
  DEF(versionInfo) {
    Napi::Object o = Napi::Object::New(ENV);
    o.Set("libtorch", TORCH_VERSION);
    o.Set("onednn", at::hasMKLDNN());
    o.Set("openmp", at::hasOpenMP());
    o.Set("threads", at::get_num_threads());
    o.Set("interopThreads", at::get_num_interop_threads());
    o.Set("cpuCapability", IsaName());
    o.Set("config", at::show_config());
    return o;
  });
  // ---- distributed (c10d over Gloo) ----
  DEF(distAvailable) { return Napi::Boolean::New(ENV, DST_HAVE_GLOO == 1); });
#if DST_HAVE_GLOO
  DefDistributed(env, exports);
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(dst_torch, Init)
