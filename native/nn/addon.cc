// N-API face of the nn addon: createSession(options) -> Session.trainStep / predict / save /
// load / importWeights, each a promise whose work runs off the main thread. Every libtorch
// failure (c10::Error included) becomes a rejection with its one-line message. The worker base
// and the argument readers are the codec addon's (native/codec/napi_util.h): an argument or
// option of the wrong type is a TypeError, one out of range a RangeError, never a default.
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "../codec/napi_util.h"
#include "allocator.h"
#include "session.h"

namespace {

using mvclass::FiniteOption;
using mvclass::IntegerOption;
using mvclass::StringOption;
using mvclass::nn::Session;
using mvclass::nn::SessionOptions;
using mvclass::nn::StateTensor;

std::string Message(const std::exception& e) {
  if (const auto* torchError = dynamic_cast<const c10::Error*>(&e)) return torchError->what_without_backtrace();
  return e.what();
}

// A job whose failures read as libtorch's one-line messages.
class Job : public mvclass::PromiseWorker {
 public:
  explicit Job(Napi::Env env) : mvclass::PromiseWorker(env) {}
  Napi::Promise Start() { return mvclass::Start(this); }

 protected:
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
  std::string Describe(const std::exception& e) const override { return Message(e); }
};

struct Constructors {
  Napi::FunctionReference session;
};

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Session",
                       {InstanceMethod("trainStep", &SessionWrap::TrainStep), InstanceMethod("predict", &SessionWrap::Predict),
                        InstanceMethod("save", &SessionWrap::Save), InstanceMethod("load", &SessionWrap::Load),
                        InstanceMethod("importWeights", &SessionWrap::ImportWeights),
                        InstanceMethod("exportWeights", &SessionWrap::ExportWeights),
                        InstanceMethod("inputGradient", &SessionWrap::InputGradient),
                        InstanceMethod("state", &SessionWrap::State)});
  }
  explicit SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {}
  std::shared_ptr<Session> session;
  std::shared_ptr<std::atomic<bool>> busy = std::make_shared<std::atomic<bool>>(false);

 private:
  // One job at a time per session: a network is not safe to train and save at once.
  void Claim(Napi::Env env) {
    bool expected = false;
    if (!busy->compare_exchange_strong(expected, true)) throw Napi::Error::New(env, "this model is busy with another step");
  }
  int64_t BatchOf(Napi::Env env, const Napi::Float32Array& data) {
    int64_t per = 1;
    for (int64_t d : session->inputShape()) per *= d;
    if (data.ElementLength() == 0 || data.ElementLength() % per != 0) {
      std::string shape;
      for (int64_t d : session->inputShape()) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
      throw Napi::RangeError::New(env, "input of " + std::to_string(data.ElementLength()) + " values is not a whole batch of [" + shape + "]");
    }
    return static_cast<int64_t>(data.ElementLength()) / per;
  }
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value Predict(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value ImportWeights(const Napi::CallbackInfo& info);
  Napi::Value ExportWeights(const Napi::CallbackInfo& info);
  Napi::Value InputGradient(const Napi::CallbackInfo& info);
  Napi::Value State(const Napi::CallbackInfo& info);
  Napi::Value File(const Napi::CallbackInfo& info, int kind, const char* usage);
};

// A job on a session that releases the session's busy flag when it ends.
class SessionJob : public Job {
 public:
  SessionJob(Napi::Env env, SessionWrap* wrap) : Job(env), session_(wrap->session), busy_(wrap->busy) {}
  ~SessionJob() override { busy_->store(false); }

 protected:
  std::shared_ptr<Session> session_;
  std::shared_ptr<std::atomic<bool>> busy_;
};

// A job on a batch of inputs and labels, read in place: the references keep both arrays alive
// until the job is done.
class BatchJob : public SessionJob {
 public:
  BatchJob(Napi::Env env, SessionWrap* wrap, Napi::Float32Array data, Napi::Int32Array labels, int64_t batch)
      : SessionJob(env, wrap), data_(Napi::Persistent(data)), labels_(Napi::Persistent(labels)),
        x_(data.Data()), y_(labels.Data()), batch_(batch) {}

 protected:
  Napi::Reference<Napi::Float32Array> data_;
  Napi::Reference<Napi::Int32Array> labels_;
  const float* x_;
  const int32_t* y_;
  int64_t batch_;
};

class TrainJob : public BatchJob {
 public:
  TrainJob(Napi::Env env, SessionWrap* wrap, Napi::Float32Array data, Napi::Int32Array labels, int64_t batch, double lr, double backboneLr)
      : BatchJob(env, wrap, data, labels, batch), lr_(lr), backboneLr_(backboneLr) {}

 protected:
  void Run() override { result_ = session_->TrainStep(x_, batch_, y_, lr_, backboneLr_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", result_.loss);
    o.Set("correct", result_.correct);
    o.Set("count", result_.count);
    o.Set("gradNorm", result_.gradNorm);
    o.Set("stepped", result_.stepped);
    o.Set("overflow", result_.overflow);
    return o;
  }

 private:
  double lr_, backboneLr_;
  mvclass::nn::StepResult result_;
};

class PredictJob : public SessionJob {
 public:
  PredictJob(Napi::Env env, SessionWrap* wrap, Napi::Float32Array data, int64_t batch)
      : SessionJob(env, wrap), data_(Napi::Persistent(data)), x_(data.Data()), batch_(batch) {}

 protected:
  void Run() override { scores_ = session_->Predict(x_, batch_); }
  Napi::Value Result(Napi::Env env) override {
    return mvclass::Adopt(env, std::move(scores_));
  }

 private:
  Napi::Reference<Napi::Float32Array> data_;
  const float* x_;
  int64_t batch_;
  std::vector<float> scores_;
};

class FileJob : public SessionJob {
 public:
  enum Kind { kSave, kLoad, kImport, kExport };
  FileJob(Napi::Env env, SessionWrap* wrap, std::string path, Kind kind) : SessionJob(env, wrap), path_(std::move(path)), kind_(kind) {}

 protected:
  void Run() override {
    if (kind_ == kSave) session_->Save(path_);
    else if (kind_ == kLoad) session_->Load(path_);
    else if (kind_ == kExport) session_->ExportWeights(path_);
    else counts_ = session_->ImportWeights(path_);
  }
  Napi::Value Result(Napi::Env env) override {
    if (kind_ != kImport) return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("loaded", counts_.first);
    o.Set("skipped", counts_.second);
    return o;
  }

 private:
  std::string path_;
  Kind kind_;
  std::pair<int, int> counts_{0, 0};
};

constexpr const char* kTrainStepUsage = "trainStep(data: Float32Array, labels: Int32Array, learningRate: number, backboneLearningRate?: number)";
constexpr const char* kInputGradientUsage = "inputGradient(data: Float32Array, labels: Int32Array)";

// A batch's labels: one per input, each a class of this network.
void CheckLabels(Napi::Env env, const Napi::Int32Array& labels, int64_t batch, int classes) {
  if (static_cast<int64_t>(labels.ElementLength()) != batch) {
    throw Napi::RangeError::New(env, "a batch of " + std::to_string(batch) + " inputs needs as many labels, got " + std::to_string(labels.ElementLength()));
  }
  for (size_t i = 0; i < labels.ElementLength(); i++) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw Napi::RangeError::New(env, "label " + std::to_string(labels[i]) + " is outside 0.." + std::to_string(classes - 1));
    }
  }
}

Napi::Value SessionWrap::TrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array data = mvclass::TypedArgument<float>(info, 0, kTrainStepUsage);
  Napi::Int32Array labels = mvclass::TypedArgument<int32_t>(info, 1, kTrainStepUsage);
  const double lr = mvclass::NumberArgument(info, 2, kTrainStepUsage);
  if (!std::isfinite(lr) || lr < 0) throw Napi::RangeError::New(env, "the learning rate must be a finite number of at least 0");
  // The backbone group's rate (a session set up with a backbone factor or freeze); the same rate when not given.
  const double backboneLr = info.Length() > 3 && !info[3].IsUndefined() ? mvclass::NumberArgument(info, 3, kTrainStepUsage) : lr;
  if (!std::isfinite(backboneLr) || backboneLr < 0) throw Napi::RangeError::New(env, "the backbone learning rate must be a finite number of at least 0");
  const int64_t batch = BatchOf(env, data);
  CheckLabels(env, labels, batch, session->classes());
  Claim(env);
  return (new TrainJob(env, this, data, labels, batch, lr, backboneLr))->Start();
}

Napi::Value SessionWrap::Predict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array data = mvclass::TypedArgument<float>(info, 0, "predict(data: Float32Array)");
  const int64_t batch = BatchOf(env, data);
  Claim(env);
  return (new PredictJob(env, this, data, batch))->Start();
}

Napi::Value SessionWrap::File(const Napi::CallbackInfo& info, int kind, const char* usage) {
  std::string path = mvclass::StringArgument(info, 0, usage);
  if (path.empty()) throw Napi::TypeError::New(info.Env(), usage);
  Claim(info.Env());
  return (new FileJob(info.Env(), this, std::move(path), static_cast<FileJob::Kind>(kind)))->Start();
}
Napi::Value SessionWrap::Save(const Napi::CallbackInfo& info) { return File(info, FileJob::kSave, "save(path: string)"); }
Napi::Value SessionWrap::Load(const Napi::CallbackInfo& info) { return File(info, FileJob::kLoad, "load(path: string)"); }
Napi::Value SessionWrap::ImportWeights(const Napi::CallbackInfo& info) {
  return File(info, FileJob::kImport, "importWeights(path: string)");
}
Napi::Value SessionWrap::ExportWeights(const Napi::CallbackInfo& info) {
  return File(info, FileJob::kExport, "exportWeights(path: string)");
}

class GradientJob : public BatchJob {
 public:
  using BatchJob::BatchJob;

 protected:
  void Run() override { result_ = session_->InputGradient(x_, batch_, y_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", result_.first);
    o.Set("gradient", mvclass::Adopt(env, std::move(result_.second)));
    return o;
  }

 private:
  std::pair<double, std::vector<float>> result_;
};

Napi::Value SessionWrap::InputGradient(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array data = mvclass::TypedArgument<float>(info, 0, kInputGradientUsage);
  Napi::Int32Array labels = mvclass::TypedArgument<int32_t>(info, 1, kInputGradientUsage);
  const int64_t batch = BatchOf(env, data);
  CheckLabels(env, labels, batch, session->classes());
  Claim(env);
  return (new GradientJob(env, this, data, labels, batch))->Start();
}

// state(): the state dict copied out on a worker, [{name, shape, buffer, values: Float64Array}].
class StateJob : public SessionJob {
 public:
  using SessionJob::SessionJob;

 protected:
  void Run() override { state_ = session_->State(); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array out = Napi::Array::New(env, state_.size());
    for (size_t i = 0; i < state_.size(); i++) {
      StateTensor& t = state_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", t.name);
      Napi::Array shape = Napi::Array::New(env, t.shape.size());
      for (size_t d = 0; d < t.shape.size(); d++) shape.Set(static_cast<uint32_t>(d), static_cast<double>(t.shape[d]));
      o.Set("shape", shape);
      o.Set("buffer", t.buffer);
      Napi::Float64Array values = Napi::Float64Array::New(env, t.values.size());
      std::copy(t.values.begin(), t.values.end(), values.Data());
      o.Set("values", values);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

 private:
  std::vector<StateTensor> state_;
};

Napi::Value SessionWrap::State(const Napi::CallbackInfo& info) {
  Claim(info.Env());
  return (new StateJob(info.Env(), this))->Start();
}

// applyLayer({op, input, inputShape, weight?, weightShape?, bias?, weight2?, weight2Shape?, bias2?, stride?,
// padding?, kernel?, groups?}):
// synchronous, for small tensors in tests. Each tensor's values must fill its shape.
Napi::Value ApplyLayerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = mvclass::ObjectArgument(info, 0);
  auto floats = [&](const char* key) {
    std::vector<float> v;
    Napi::Value x = o.Get(key);
    if (x.IsUndefined() || x.IsNull()) return v;
    if (!x.IsTypedArray() || x.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, std::string("option ") + key + " must be a Float32Array");
    }
    Napi::Float32Array a = x.As<Napi::Float32Array>();
    v.assign(a.Data(), a.Data() + a.ElementLength());
    return v;
  };
  auto ints = [&](const char* key) {
    std::vector<int64_t> v;
    Napi::Value x = o.Get(key);
    if (x.IsUndefined() || x.IsNull()) return v;
    if (!x.IsArray()) throw Napi::TypeError::New(env, std::string("option ") + key + " must be an array of integers");
    Napi::Array a = x.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value d = a.Get(i);
      const double n = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
      if (!(n >= 0 && n <= 1e9) || std::floor(n) != n) {
        throw Napi::TypeError::New(env, std::string("option ") + key + " must be an array of integers of at least 0");
      }
      v.push_back(static_cast<int64_t>(n));
    }
    return v;
  };
  mvclass::nn::LayerCall call;
  call.op = StringOption(o, "op", "");
  call.input = floats("input");
  call.weight = floats("weight");
  call.bias = floats("bias");
  call.weight2 = floats("weight2");
  call.bias2 = floats("bias2");
  call.inputShape = ints("inputShape");
  call.weightShape = ints("weightShape");
  call.weight2Shape = ints("weight2Shape");
  Napi::Value groups = o.Get("groups");
  if (!groups.IsUndefined() && !groups.IsNull()) {
    const double g = groups.IsNumber() ? groups.As<Napi::Number>().DoubleValue() : 0;
    if (!(g >= 1 && g <= 1e6) || std::floor(g) != g) throw Napi::TypeError::New(env, "option groups must be an integer of at least 1");
    call.groups = static_cast<int64_t>(g);
  }
  call.stride = ints("stride");
  call.padding = ints("padding");
  call.kernel = ints("kernel");
  auto fills = [&](const std::vector<float>& values, const std::vector<int64_t>& shape, const char* what) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    if (static_cast<int64_t>(values.size()) != n) {
      throw Napi::RangeError::New(env, std::string(what) + ": " + std::to_string(values.size()) + " values do not fill its shape");
    }
  };
  fills(call.input, call.inputShape, "input");
  if (call.op == "lstm") {
    if (call.weightShape.size() != 2 || call.weightShape[0] % 4 != 0 || call.weightShape[0] == 0 || call.weightShape[1] <= call.weightShape[0] / 4 ||
        call.inputShape.size() != 3 || call.inputShape[2] != call.weightShape[1] - call.weightShape[0] / 4) {
      throw Napi::RangeError::New(env, "lstm needs weightShape [4H, in + H] and inputShape [B, T, in]");
    }
    fills(call.weight, call.weightShape, "weight");
    fills(call.bias, {call.weightShape[0]}, "bias");
  } else if (call.op == "conv3d" || call.op == "conv2d" || call.op == "linear" || call.op == "squeeze_excitation") {
    if (call.weightShape.empty()) throw Napi::TypeError::New(env, "option weightShape is needed for " + call.op);
    fills(call.weight, call.weightShape, "weight");
    fills(call.bias, {call.weightShape[0]}, "bias");
    if (call.op == "squeeze_excitation") {
      if (call.weight2Shape.empty()) throw Napi::TypeError::New(env, "option weight2Shape is needed for " + call.op);
      fills(call.weight2, call.weight2Shape, "weight2");
      fills(call.bias2, {call.weight2Shape[0]}, "bias2");
    }
  } else if (call.op == "depthwise3d" || call.op == "depthwise3d_grad" || call.op == "conv3d_grad") {
    if (call.weightShape.size() != 5 || call.inputShape.size() != 5 || call.weightShape[1] != 1 || call.weightShape[0] != call.inputShape[1]) {
      throw Napi::RangeError::New(env, call.op + " needs inputShape [N, C, T, H, W] and weightShape [C, 1, KT, KH, KW]");
    }
    fills(call.weight, call.weightShape, "weight");
  } else if (call.op == "prelu" || call.op == "prelu_grad" || call.op == "shared_prelu_grad") {
    fills(call.weight, {1}, "weight");
  }
  try {
    auto [values, shape] = mvclass::nn::ApplyLayer(call);
    Napi::Object out = Napi::Object::New(env);
    Napi::Array dims = Napi::Array::New(env, shape.size());
    for (size_t i = 0; i < shape.size(); i++) dims.Set(static_cast<uint32_t>(i), static_cast<double>(shape[i]));
    out.Set("data", mvclass::Adopt(env, std::move(values)));
    out.Set("shape", dims);
    return out;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, Message(e));
  }
}

class CreateJob : public Job {
 public:
  CreateJob(Napi::Env env, SessionOptions options) : Job(env), options_(std::move(options)) {}

 protected:
  void Run() override { session_ = std::make_shared<Session>(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object object = env.GetInstanceData<Constructors>()->session.New({});
    SessionWrap::Unwrap(object)->session = session_;
    Napi::Array shape = Napi::Array::New(env);
    auto dims = session_->inputShape();
    for (size_t i = 0; i < dims.size(); i++) shape.Set(static_cast<uint32_t>(i), static_cast<double>(dims[i]));
    object.Set("inputShape", shape);
    object.Set("parameters", static_cast<double>(session_->parameterCount()));
    object.Set("precision", session_->precision());
    object.Set("channelsLast", session_->channelsLast());
    return object;
  }

 private:
  SessionOptions options_;
  std::shared_ptr<Session> session_;
};

// createSession(options): every option is checked here (type and range) before the network is
// built on a worker; a missing one takes the default shown.
Napi::Value CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "createSession(options)");
  Napi::Object o = info[0].As<Napi::Object>();
  SessionOptions options;
  options.spec.name = StringOption(o, "model", "");
  options.spec.classes = static_cast<int>(IntegerOption(o, "classes", 2, 0, 1 << 20));
  options.spec.frames = static_cast<int>(IntegerOption(o, "frames", 160, 1, 1 << 16));
  options.spec.size = static_cast<int>(IntegerOption(o, "size", 24, 1, 1 << 16));
  options.spec.width = FiniteOption(o, "width", 1.0, 0);
  if (options.spec.width <= 0) throw Napi::RangeError::New(env, "option width must be above 0");
  options.spec.fc = static_cast<int>(IntegerOption(o, "fc", 2048, 1, 1 << 20));
  options.spec.backbone = StringOption(o, "backbone", "resnet18");
  options.device = StringOption(o, "device", "cpu");
  options.threads = static_cast<int>(IntegerOption(o, "threads", 0, 0, 1024));
  options.optimizer = StringOption(o, "optimizer", "sgd");
  if (options.optimizer != "sgd" && options.optimizer != "adam" && options.optimizer != "adamw") {
    throw Napi::RangeError::New(env, "option optimizer must be sgd, adam or adamw");
  }
  options.momentum = FiniteOption(o, "momentum", 0.9, 0);
  options.weightDecay = FiniteOption(o, "weightDecay", 0.005, 0);
  options.clipNorm = FiniteOption(o, "clipNorm", 0, 0);
  options.backboneLr = FiniteOption(o, "backboneLr", 1, 0);
  options.freezeBackbone = IntegerOption(o, "freezeBackbone", 0, 0, (int64_t{1} << 53) - 1);
  options.seed = static_cast<uint64_t>(IntegerOption(o, "seed", 1, 0, (int64_t{1} << 53) - 1));
  options.precision = StringOption(o, "precision", "auto");
  if (options.precision != "auto" && options.precision != "fp32" && options.precision != "bf16" && options.precision != "fp16") {
    throw Napi::RangeError::New(env, "option precision must be auto, fp32, bf16 or fp16");
  }
  options.channelsLast = StringOption(o, "channelsLast", "auto");
  if (options.channelsLast != "auto" && options.channelsLast != "on" && options.channelsLast != "off") {
    throw Napi::RangeError::New(env, "option channelsLast must be auto, on or off");
  }
  Napi::Value deterministic = o.Get("deterministic");
  if (!deterministic.IsUndefined() && !deterministic.IsBoolean()) throw Napi::TypeError::New(env, "option deterministic must be a boolean");
  options.deterministic = deterministic.IsBoolean() && deterministic.As<Napi::Boolean>().Value();
  return (new CreateJob(env, options))->Start();
}

// Sets OpenBLAS's thread count when `threads` > 0; returns the count it reports after, or -1 when
// libtorch's BLAS is not OpenBLAS.
int OpenBlasThreads(int threads) {
  // Found among the loaded objects by name: Debian's is .../openblas-pthread/libblas.so.3 (or
  // libopenblas.so.0), wheels bundle it renamed.
  std::string file;
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t, void* found) {
        if (object->dlpi_name == nullptr || std::strstr(object->dlpi_name, "openblas") == nullptr) return 0;
        *static_cast<std::string*>(found) = object->dlpi_name;
        return 1;
      },
      &file);
  void* blas = file.empty() ? nullptr : dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
  if (blas == nullptr) return -1;
  auto set = reinterpret_cast<void (*)(int)>(dlsym(blas, "openblas_set_num_threads"));
  auto get = reinterpret_cast<int (*)()>(dlsym(blas, "openblas_get_num_threads"));
  int reported = -1;
  if (set != nullptr && get != nullptr) {
    if (threads > 0) set(threads);
    reported = get();
  }
  dlclose(blas);  // drops the reference NOLOAD took; libtorch keeps the library loaded
  return reported;
}

// OpenBLAS runs on its caller's thread from the moment the addon loads, unless the user set
// OPENBLAS_NUM_THREADS. Two reasons:
// - Speed: libtorch already spreads the work over its own threads (OpenMP, oneDNN), and OpenBLAS's
//   pthread pool adds as many threads again that spin (sched_yield) on the same cores, beside the
//   clip loader's threads too. `mvclass demo --quick --threads 2` on 2 idle cores: 137 s wall,
//   191 s user + 66 s system with OpenBLAS's pool; 100 s, 138 s + 17 s without it (every training
//   faster: mv3d 21 -> 17 s, mv2d 12 -> 10 s, vgg16 21 -> 12 s). In bench:nn's bare steps, with
//   nothing beside them, it moves each network by -33% to +16%.
// - Forking: OpenBLAS's pthread_atfork handler joins its worker threads, and one that is running a
//   job when the fork starts clears the shutdown request as it finishes and goes to sleep for good,
//   so fork() never returns (OpenBLAS 0.3.21: the main thread in blas_thread_shutdown_ joining a
//   thread asleep in its condition wait). libuv forks for every child process. With one thread no
//   call hands its workers a job, so the handler joins idle threads.
void OneThreadBlasUnlessAsked() {
  if (std::getenv("OPENBLAS_NUM_THREADS") == nullptr) OpenBlasThreads(1);
}

// For a process that forks whatever the environment says (the service): see above.
Napi::Value SingleThreadBlas(const Napi::CallbackInfo& info) {
  int threads = OpenBlasThreads(1);
  return threads < 0 ? info.Env().Null() : Napi::Number::New(info.Env(), threads);
}

Napi::Value BlasThreads(const Napi::CallbackInfo& info) {
  int threads = OpenBlasThreads(0);
  return threads < 0 ? info.Env().Null() : Napi::Number::New(info.Env(), threads);
}

// The networks run on libuv's worker threads. With glibc each such thread would get a malloc arena
// of its own, whose heaps are capped at 64 MB, so libtorch's large activations and gradients were
// mapped and page-faulted afresh at every step: bench:nn's resnet50 train step took 4.4-4.8 s,
// 1.35x PyTorch's, and 3.1 s (0.92x) with one arena (mv3d 1.13x -> 0.99x, resnet18 1.10x ->
// 0.92x). One arena, the main one, which grows with brk and keeps what it frees, unless the user
// set MALLOC_ARENA_MAX. Set when the addon loads, before libtorch starts its threads; threads
// that already have an arena keep it.
void OneMallocArena() {
#ifdef __GLIBC__
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  OneMallocArena();
  OneThreadBlasUnlessAsked();
  mvclass::nn::UseCachingCpuAllocator();
  auto* ctors = new Constructors();
  ctors->session = Napi::Persistent(SessionWrap::Define(env));
  env.SetInstanceData<Constructors>(ctors);
  exports.Set("createSession", Napi::Function::New(env, CreateSession));
  exports.Set("applyLayer", Napi::Function::New(env, ApplyLayerJs));
  exports.Set("singleThreadBlas", Napi::Function::New(env, SingleThreadBlas));
  exports.Set("blasThreads", Napi::Function::New(env, BlasThreads));
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(mvclass_nn, Init)
