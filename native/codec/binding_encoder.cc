// JavaScript face of the encoder: openEncoder(options) -> Encoder.write(yuv, count) ->
// Encoder.finish(). Frames are read from the caller's Uint8Array without copying; the worker
// holds a reference to it until the encode step is done.
#include <atomic>
#include <memory>

#include "encoder.h"
#include "transcode.h"
#include "bindings.h"
#include "napi_util.h"

namespace mvclass {
namespace {

EncoderOptions ParseEncoderOptions(const Napi::Object& o) {
  EncoderOptions options;
  options.path = StringOption(o, "path", "");
  options.format = StringOption(o, "format", "");
  options.codec = StringOption(o, "codec", "libx264");
  options.width = static_cast<int>(NumberOption(o, "width", 0));
  options.height = static_cast<int>(NumberOption(o, "height", 0));
  options.fpsNum = static_cast<int>(NumberOption(o, "fpsNum", 25));  // transcode: 0 keeps the input's
  options.fpsDen = static_cast<int>(NumberOption(o, "fpsDen", 1));
  options.qp = static_cast<int>(NumberOption(o, "qp", -1));
  options.crf = NumberOption(o, "crf", -1);
  options.gop = static_cast<int>(NumberOption(o, "gop", 0));
  options.bframes = static_cast<int>(NumberOption(o, "bframes", 0));
  options.meRange = static_cast<int>(NumberOption(o, "meRange", 16));
  options.refs = static_cast<int>(NumberOption(o, "refs", 1));
  options.threads = static_cast<int>(NumberOption(o, "threads", 0));
  options.preset = StringOption(o, "preset", "medium");
  options.cabac = BoolOption(o, "cabac", true);
  options.partitions = StringOption(o, "partitions", "");
  options.statsPath = StringOption(o, "statsPath", "");
  if (options.path.empty()) throw Napi::TypeError::New(o.Env(), "option path is required");
  return options;
}

Napi::Array FrameBitsToJs(Napi::Env env, const std::vector<FrameBits>& frames) {
  Napi::Array out = Napi::Array::New(env, frames.size());
  for (size_t i = 0; i < frames.size(); i++) {
    const FrameBits& f = frames[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("display", f.display);
    o.Set("coded", f.coded);
    o.Set("type", std::string(1, f.type));
    o.Set("qp", f.qp);
    o.Set("texture", static_cast<double>(f.texture));
    o.Set("motion", static_cast<double>(f.motion));
    o.Set("other", static_cast<double>(f.other));
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Array PacketsToJs(Napi::Env env, const std::vector<PacketRecord>& packets) {
  Napi::Array out = Napi::Array::New(env, packets.size());
  for (size_t i = 0; i < packets.size(); i++) {
    const PacketRecord& p = packets[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("pts", static_cast<double>(p.pts));
    o.Set("dts", static_cast<double>(p.dts));
    o.Set("bytes", static_cast<double>(p.bytes));
    o.Set("key", p.key);
    o.Set("type", std::string(1, p.type));
    o.Set("qp", p.qp);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

class EncoderWrap : public Napi::ObjectWrap<EncoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Encoder",
                       {InstanceMethod("write", &EncoderWrap::Write),
                        InstanceMethod("finish", &EncoderWrap::Finish),
                        InstanceMethod("abort", &EncoderWrap::Abort)});
  }
  explicit EncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderWrap>(info) {}

  std::shared_ptr<VideoEncoder> encoder;
  EncoderOptions options;
  std::shared_ptr<std::atomic<bool>> busy = std::make_shared<std::atomic<bool>>(false);

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Finish(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    encoder.reset();  // closes the file; the TS layer removes the temporary
    return info.Env().Undefined();
  }
  void Claim(Napi::Env env) {
    if (!encoder) throw Napi::Error::New(env, options.path + ": the encoder is closed");
    bool expected = false;
    if (!busy->compare_exchange_strong(expected, true)) {
      throw Napi::Error::New(env, options.path + ": an encode step is already in progress");
    }
  }
};

class OpenEncoderWorker : public PromiseWorker {
 public:
  OpenEncoderWorker(Napi::Env env, EncoderOptions options) : PromiseWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { encoder_ = std::make_shared<VideoEncoder>(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object object = env.GetInstanceData<AddonData>()->encoder.New({});
    EncoderWrap* wrap = EncoderWrap::Unwrap(object);
    wrap->encoder = encoder_;
    wrap->options = options_;
    return object;
  }

 private:
  EncoderOptions options_;
  std::shared_ptr<VideoEncoder> encoder_;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<VideoEncoder> encoder,
               std::shared_ptr<std::atomic<bool>> busy, Napi::Uint8Array frames, size_t count,
               bool finish)
      : PromiseWorker(env), encoder_(std::move(encoder)), busy_(std::move(busy)),
        count_(count), finish_(finish) {
    if (!frames.IsEmpty()) {
      framesRef_ = Napi::Persistent(frames);
      data_ = frames.Data();
    }
  }
  ~EncodeWorker() override { busy_->store(false); }

 protected:
  void Run() override {
    if (count_ > 0) encoder_->Write(data_, count_, packets_);
    if (finish_) encoder_->Finish(packets_);
  }
  Napi::Value Result(Napi::Env env) override {
    if (!finish_) return PacketsToJs(env, packets_);
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", PacketsToJs(env, packets_));
    o.Set("frameBits", FrameBitsToJs(env, encoder_->frameBits()));
    o.Set("extradataBytes", static_cast<double>(encoder_->extradataBytes()));
    return o;
  }

 private:
  std::shared_ptr<VideoEncoder> encoder_;
  std::shared_ptr<std::atomic<bool>> busy_;
  Napi::Reference<Napi::Uint8Array> framesRef_;
  const uint8_t* data_ = nullptr;
  size_t count_;
  bool finish_;
  std::vector<PacketRecord> packets_;
};

Napi::Value EncoderWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "write(frames: Uint8Array, count: number)");
  }
  Napi::Uint8Array frames = info[0].As<Napi::Uint8Array>();
  const double count = info[1].As<Napi::Number>().DoubleValue();
  const size_t frameBytes = static_cast<size_t>(options.width) * options.height * 3 / 2;
  if (!(count >= 0) || frames.ByteLength() < frameBytes * static_cast<size_t>(count)) {
    throw Napi::RangeError::New(env, options.path + ": write() was given fewer bytes than " +
                                         std::to_string(static_cast<long long>(count)) + " frames need");
  }
  Claim(env);
  return Start(new EncodeWorker(env, encoder, busy, frames, static_cast<size_t>(count), false));
}

Napi::Value EncoderWrap::Finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Claim(env);
  return Start(new EncodeWorker(env, encoder, busy, Napi::Uint8Array(), 0, true));
}

Napi::Value OpenEncoder(const Napi::CallbackInfo& info) {
  return Start(new OpenEncoderWorker(info.Env(), ParseEncoderOptions(ObjectArgument(info, 0))));
}

class TranscodeWorker : public PromiseWorker {
 public:
  TranscodeWorker(Napi::Env env, TranscodeOptions options) : PromiseWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { result_ = Transcode(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", result_.width);
    o.Set("height", result_.height);
    o.Set("fpsNum", result_.fpsNum);
    o.Set("fpsDen", result_.fpsDen);
    o.Set("inputFrames", static_cast<double>(result_.inputFrames));
    o.Set("frames", static_cast<double>(result_.frames));
    o.Set("packets", PacketsToJs(env, result_.packets));
    o.Set("frameBits", FrameBitsToJs(env, result_.frameBits));
    o.Set("extradataBytes", static_cast<double>(result_.extradataBytes));
    o.Set("warnings", StringsToJs(env, result_.warnings));
    return o;
  }

 private:
  TranscodeOptions options_;
  TranscodeResult result_;
};

Napi::Value TranscodeFile(const Napi::CallbackInfo& info) {
  Napi::Object o = ObjectArgument(info, 0);
  TranscodeOptions options;
  options.input = StringOption(o, "input", "");
  options.decoderThreads = static_cast<int>(NumberOption(o, "decoderThreads", 0));
  options.encoder = ParseEncoderOptions(o);
  options.crop = PictureCropOption(o);
  if (options.input.empty()) throw Napi::TypeError::New(info.Env(), "transcode needs an input path");
  return Start(new TranscodeWorker(info.Env(), std::move(options)));
}

}  // namespace

void InitEncoder(Napi::Env env, Napi::Object exports, AddonData& data) {
  data.encoder = Napi::Persistent(EncoderWrap::Define(env));
  exports.Set("openEncoder", Napi::Function::New(env, OpenEncoder));
  exports.Set("transcode", Napi::Function::New(env, TranscodeFile));
}

}  // namespace mvclass
