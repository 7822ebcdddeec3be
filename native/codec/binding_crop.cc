// JavaScript face of crop(): one promise per file; the whole rewrite runs on a worker thread.
#include "crop.h"
#include "bindings.h"
#include "napi_util.h"

namespace mvclass {
namespace {

class CropWorker : public PromiseWorker {
 public:
  CropWorker(Napi::Env env, CropOptions options) : PromiseWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { result_ = CropH264(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("frames", static_cast<double>(result_.frames));
    o.Set("copiedFrames", static_cast<double>(result_.copiedFrames));
    o.Set("rewrittenFrames", static_cast<double>(result_.rewrittenFrames));
    o.Set("skippedMbs", static_cast<double>(result_.skippedMbs));
    o.Set("interMbs", static_cast<double>(result_.interMbs));
    o.Set("intraMbs", static_cast<double>(result_.intraMbs));
    o.Set("inputVideoBytes", static_cast<double>(result_.inputVideoBytes));
    o.Set("outputVideoBytes", static_cast<double>(result_.outputVideoBytes));
    o.Set("parameterSetBytes", static_cast<double>(result_.parameterSetBytes));
    o.Set("duration", result_.duration);
    o.Set("warnings", StringsToJs(env, result_.warnings));
    std::vector<double> frameBytes(result_.frameBytes.begin(), result_.frameBytes.end());
    o.Set("frameBytes", Adopt(env, std::move(frameBytes)));
    o.Set("frameKinds", result_.frameKinds);
    return o;
  }

 private:
  CropOptions options_;
  CropResult result_;
};

Napi::Value Crop(const Napi::CallbackInfo& info) {
  Napi::Object o = ObjectArgument(info, 0);
  CropOptions options;
  options.input = StringOption(o, "input", "");
  options.output = StringOption(o, "output", "");
  options.annexB = BoolOption(o, "annexB", false);
  if (options.input.empty() || options.output.empty()) {
    throw Napi::TypeError::New(info.Env(), "crop needs input and output paths");
  }
  return Start(new CropWorker(info.Env(), std::move(options)));
}

}  // namespace

void InitCrop(Napi::Env env, Napi::Object exports) {
  exports.Set("crop", Napi::Function::New(env, Crop));
}

}  // namespace mvclass
