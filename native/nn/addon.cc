// N-API face of the nn addon: createSession(options) -> Session.trainStep / predict / save /
// load / importWeights, each a promise whose work runs off the main thread. Every libtorch
// failure (c10::Error included) becomes a rejection with its one-line message.
#include <napi.h>

#include <atomic>
#include <memory>

#include "session.h"

namespace {

using mvclass::nn::Session;
using mvclass::nn::SessionOptions;

std::string Message(const std::exception& e) {
  if (const auto* torchError = dynamic_cast<const c10::Error*>(&e)) return torchError->what_without_backtrace();
  return e.what();
}

class Job : public Napi::AsyncWorker {
 public:
  explicit Job(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Start() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  void Execute() final {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(Message(e));
    } catch (...) {
      SetError("unknown libtorch failure");
    }
  }
  void OnOK() final {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(Result(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) final { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
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
                        InstanceMethod("inputGradient", &SessionWrap::InputGradient)});
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
  TrainJob(Napi::Env env, SessionWrap* wrap, Napi::Float32Array data, Napi::Int32Array labels, int64_t batch, double lr)
      : BatchJob(env, wrap, data, labels, batch), lr_(lr) {}

 protected:
  void Run() override { result_ = session_->TrainStep(x_, batch_, y_, lr_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", result_.loss);
    o.Set("correct", result_.correct);
    o.Set("count", result_.count);
    o.Set("gradNorm", result_.gradNorm);
    o.Set("stepped", result_.stepped);
    return o;
  }

 private:
  double lr_;
  mvclass::nn::StepResult result_;
};

class PredictJob : public SessionJob {
 public:
  PredictJob(Napi::Env env, SessionWrap* wrap, Napi::Float32Array data, int64_t batch)
      : SessionJob(env, wrap), data_(Napi::Persistent(data)), x_(data.Data()), batch_(batch) {}

 protected:
  void Run() override { scores_ = session_->Predict(x_, batch_); }
  Napi::Value Result(Napi::Env env) override {
    auto* holder = new std::vector<float>(std::move(scores_));
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, holder->data(), holder->size() * sizeof(float),
                                                      [](Napi::Env, void*, std::vector<float>* h) { delete h; }, holder);
    return Napi::Float32Array::New(env, holder->size(), buffer, 0);
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

Napi::Value SessionWrap::TrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "trainStep(data: Float32Array, labels: Int32Array, learningRate: number)");
  }
  Napi::Float32Array data = info[0].As<Napi::Float32Array>();
  Napi::Int32Array labels = info[1].As<Napi::Int32Array>();
  const int64_t batch = BatchOf(env, data);
  if (static_cast<int64_t>(labels.ElementLength()) != batch) {
    throw Napi::RangeError::New(env, "a batch of " + std::to_string(batch) + " inputs needs as many labels, got " + std::to_string(labels.ElementLength()));
  }
  for (size_t i = 0; i < labels.ElementLength(); i++) {
    if (labels[i] < 0 || labels[i] >= session->classes()) {
      throw Napi::RangeError::New(env, "label " + std::to_string(labels[i]) + " is outside 0.." + std::to_string(session->classes() - 1));
    }
  }
  Claim(env);
  return (new TrainJob(env, this, data, labels, batch, info[2].As<Napi::Number>().DoubleValue()))->Start();
}

Napi::Value SessionWrap::Predict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "predict(data: Float32Array)");
  Napi::Float32Array data = info[0].As<Napi::Float32Array>();
  const int64_t batch = BatchOf(env, data);
  Claim(env);
  return (new PredictJob(env, this, data, batch))->Start();
}

Napi::Value SessionWrap::Save(const Napi::CallbackInfo& info) {
  Claim(info.Env());
  return (new FileJob(info.Env(), this, info[0].ToString().Utf8Value(), FileJob::kSave))->Start();
}
Napi::Value SessionWrap::Load(const Napi::CallbackInfo& info) {
  Claim(info.Env());
  return (new FileJob(info.Env(), this, info[0].ToString().Utf8Value(), FileJob::kLoad))->Start();
}
Napi::Value SessionWrap::ImportWeights(const Napi::CallbackInfo& info) {
  Claim(info.Env());
  return (new FileJob(info.Env(), this, info[0].ToString().Utf8Value(), FileJob::kImport))->Start();
}

Napi::Value SessionWrap::ExportWeights(const Napi::CallbackInfo& info) {
  Claim(info.Env());
  return (new FileJob(info.Env(), this, info[0].ToString().Utf8Value(), FileJob::kExport))->Start();
}

class GradientJob : public BatchJob {
 public:
  using BatchJob::BatchJob;

 protected:
  void Run() override { result_ = session_->InputGradient(x_, batch_, y_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("loss", result_.first);
    Napi::Float32Array g = Napi::Float32Array::New(env, result_.second.size());
    std::copy(result_.second.begin(), result_.second.end(), g.Data());
    o.Set("gradient", g);
    return o;
  }

 private:
  std::pair<double, std::vector<float>> result_;
};

Napi::Value SessionWrap::InputGradient(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array data = info[0].As<Napi::Float32Array>();
  Napi::Int32Array labels = info[1].As<Napi::Int32Array>();
  const int64_t batch = BatchOf(env, data);
  Claim(env);
  return (new GradientJob(env, this, data, labels, batch))->Start();
}

// applyLayer({op, input, inputShape, weight?, weightShape?, bias?, stride?, padding?, kernel?}):
// synchronous, for small tensors in tests.
Napi::Value ApplyLayerJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  auto floats = [&](const char* key) {
    std::vector<float> v;
    Napi::Value x = o.Get(key);
    if (x.IsTypedArray()) {
      Napi::Float32Array a = x.As<Napi::Float32Array>();
      v.assign(a.Data(), a.Data() + a.ElementLength());
    }
    return v;
  };
  auto ints = [&](const char* key) {
    std::vector<int64_t> v;
    Napi::Value x = o.Get(key);
    if (x.IsArray()) {
      Napi::Array a = x.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) v.push_back(a.Get(i).As<Napi::Number>().Int64Value());
    }
    return v;
  };
  mvclass::nn::LayerCall call;
  call.op = o.Get("op").As<Napi::String>().Utf8Value();
  call.input = floats("input");
  call.weight = floats("weight");
  call.bias = floats("bias");
  call.inputShape = ints("inputShape");
  call.weightShape = ints("weightShape");
  call.stride = ints("stride");
  call.padding = ints("padding");
  call.kernel = ints("kernel");
  try {
    auto [values, shape] = mvclass::nn::ApplyLayer(call);
    Napi::Object out = Napi::Object::New(env);
    Napi::Float32Array data = Napi::Float32Array::New(env, values.size());
    std::copy(values.begin(), values.end(), data.Data());
    Napi::Array dims = Napi::Array::New(env, shape.size());
    for (size_t i = 0; i < shape.size(); i++) dims.Set(static_cast<uint32_t>(i), static_cast<double>(shape[i]));
    out.Set("data", data);
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
    return object;
  }

 private:
  SessionOptions options_;
  std::shared_ptr<Session> session_;
};

Napi::Value CreateSession(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "createSession(options)");
  Napi::Object o = info[0].As<Napi::Object>();
  auto num = [&](const char* key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
  };
  auto str = [&](const char* key, const char* fallback) {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(fallback);
  };
  SessionOptions options;
  options.spec.name = str("model", "");
  options.spec.classes = static_cast<int>(num("classes", 2));
  options.spec.frames = static_cast<int>(num("frames", 160));
  options.spec.size = static_cast<int>(num("size", 24));
  options.spec.width = num("width", 1.0);
  options.spec.fc = static_cast<int>(num("fc", 2048));
  options.device = str("device", "cpu");
  options.threads = static_cast<int>(num("threads", 0));
  options.momentum = num("momentum", 0.9);
  options.weightDecay = num("weightDecay", 0.005);
  options.clipNorm = num("clipNorm", 0);
  options.seed = static_cast<uint64_t>(num("seed", 1));
  return (new CreateJob(env, options))->Start();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* ctors = new Constructors();
  ctors->session = Napi::Persistent(SessionWrap::Define(env));
  env.SetInstanceData<Constructors>(ctors);
  exports.Set("createSession", Napi::Function::New(env, CreateSession));
  exports.Set("applyLayer", Napi::Function::New(env, ApplyLayerJs));
  exports.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(mvclass_nn, Init)
