// N-API plumbing shared by both addons (the codec bindings here, native/nn/addon.cc): a
// promise-returning worker that turns every C++ exception into a rejection, zero-copy hand-over
// of std::vector storage, and argument and option readers that throw a TypeError or RangeError
// naming what is wrong instead of falling back to a default.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
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
  // The rejection's message for an exception of Run (the nn addon drops libtorch's backtraces).
  virtual std::string Describe(const std::exception& e) const { return e.what(); }

  void Execute() final {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(Describe(e));
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

// A whole number within [min, max] (undefined or null: the fallback).
inline int64_t IntegerOption(const Napi::Object& o, const char* key, int64_t fallback, int64_t min, int64_t max) {
  const double v = NumberOption(o, key, static_cast<double>(fallback));
  if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max)) || std::floor(v) != v) {
    throw Napi::RangeError::New(o.Env(), std::string("option ") + key + " must be an integer from " + std::to_string(min) +
                                             " to " + std::to_string(max) + ", got " + Napi::Number::New(o.Env(), v).ToString().Utf8Value());
  }
  return static_cast<int64_t>(v);
}

// A finite number of at least `min` (undefined or null: the fallback).
inline double FiniteOption(const Napi::Object& o, const char* key, double fallback, double min) {
  const double v = NumberOption(o, key, fallback);
  if (!std::isfinite(v) || v < min) {
    throw Napi::RangeError::New(o.Env(), std::string("option ") + key + " must be a finite number of at least " +
                                             Napi::Number::New(o.Env(), min).ToString().Utf8Value() + ", got " +
                                             Napi::Number::New(o.Env(), v).ToString().Utf8Value());
  }
  return v;
}

inline Napi::Object ObjectArgument(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsObject()) {
    throw Napi::TypeError::New(info.Env(), "expected an options object");
  }
  return info[i].As<Napi::Object>();
}

// Positional arguments, checked; `usage` is the call's signature, the TypeError's message.
inline std::string StringArgument(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::String>().Utf8Value();
}

inline double NumberArgument(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::Number>().DoubleValue();
}

// A typed array of exactly the element type T (a Float64Array is not read as floats).
template <typename T>
constexpr napi_typedarray_type ArrayTypeOf() {
  static_assert(std::is_same<T, float>::value || std::is_same<T, int32_t>::value, "add the type here");
  return std::is_same<T, float>::value ? napi_float32_array : napi_int32_array;
}
template <typename T>
Napi::TypedArrayOf<T> TypedArgument(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != ArrayTypeOf<T>()) {
    throw Napi::TypeError::New(info.Env(), usage);
  }
  return info[i].As<Napi::TypedArrayOf<T>>();
}

}  // namespace mvclass
