// N-API plumbing shared by the bindings: a promise-returning worker that turns every C++
// exception into a rejection, zero-copy hand-over of std::vector storage, and option readers.
#pragma once

#include <napi.h>

#include <exception>
#include <string>
#include <vector>

namespace mvclass {

// Execute() never touches Napi values: Run() works on plain C++ state copied in beforehand,
// Result() converts on the main thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void Execute() final {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() final {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(Result(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) final { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

inline Napi::Array StringsToJs(Napi::Env env, const std::vector<std::string>& lines) {
  Napi::Array out = Napi::Array::New(env, lines.size());
  for (size_t i = 0; i < lines.size(); i++) out.Set(static_cast<uint32_t>(i), lines[i]);
  return out;
}

// Queues a worker and hands its promise to JavaScript.
inline Napi::Promise Start(PromiseWorker* worker) {
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Moves a vector's storage into an ArrayBuffer without copying; the finalizer frees it when
// JavaScript lets go of the buffer. The bytes are reported to V8 so that its garbage collector
// feels their weight (otherwise spent batches of a long video pile up between collections).
template <typename T>
Napi::ArrayBuffer AdoptBuffer(Napi::Env env, std::vector<T>&& values) {
  if (values.empty()) return Napi::ArrayBuffer::New(env, 0);
  auto* holder = new std::vector<T>(std::move(values));
  const int64_t bytes = static_cast<int64_t>(holder->size() * sizeof(T));
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return Napi::ArrayBuffer::New(
      env, holder->data(), holder->size() * sizeof(T),
      [](Napi::Env finalizeEnv, void*, std::vector<T>* owned) {
        Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -static_cast<int64_t>(owned->size() * sizeof(T)));
        delete owned;
      },
      holder);
}

template <typename T>
Napi::TypedArrayOf<T> Adopt(Napi::Env env, std::vector<T>&& values) {
  const size_t length = values.size();
  Napi::ArrayBuffer buffer = AdoptBuffer(env, std::move(values));
  return Napi::TypedArrayOf<T>::New(env, length, buffer, 0);
}

inline std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline double NumberOption(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline bool BoolOption(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Object ObjectArgument(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsObject()) {
    throw Napi::TypeError::New(info.Env(), "expected an options object");
  }
  return info[i].As<Napi::Object>();
}

// Per-environment state: the class constructors, held by N-API's single instance-data slot.
struct AddonData {
  Napi::FunctionReference reader;
  Napi::FunctionReference encoder;
};

void InitReader(Napi::Env env, Napi::Object exports, AddonData& data);
void InitEncoder(Napi::Env env, Napi::Object exports, AddonData& data);
void InitCrop(Napi::Env env, Napi::Object exports);

}  // namespace mvclass
