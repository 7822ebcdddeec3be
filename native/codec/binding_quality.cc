// JavaScript face of compareVideos(): one promise per pair of files; decoding, scaling and the
// metrics run on a worker thread.
#include "quality.h"
#include "bindings.h"
#include "napi_util.h"

namespace mvclass {
namespace {

Napi::Object PlanesToJs(Napi::Env env, const double (&planes)[3], const char* overallKey, double overall) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("y", planes[0]);
  o.Set("u", planes[1]);
  o.Set("v", planes[2]);
  o.Set(overallKey, overall);
  return o;
}

class QualityWorker : public PromiseWorker {
 public:
  QualityWorker(Napi::Env env, QualityOptions options) : PromiseWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { result_ = CompareVideos(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", result_.width);
    o.Set("height", result_.height);
    o.Set("referenceFrames", static_cast<double>(result_.referenceFrames));
    o.Set("distortedFrames", static_cast<double>(result_.distortedFrames));
    o.Set("frames", static_cast<double>(result_.frames));
    o.Set("mae", result_.mae);
    o.Set("rmse", result_.rmse);
    o.Set("mse", PlanesToJs(env, result_.mse, "average", result_.mseAverage));
    o.Set("psnr", PlanesToJs(env, result_.psnr, "average", result_.psnrAverage));
    o.Set("ssim", PlanesToJs(env, result_.ssim, "all", result_.ssimAll));
    Napi::Object frames = Napi::Object::New(env);
    frames.Set("mae", Adopt(env, std::move(result_.frameMae)));
    frames.Set("rmse", Adopt(env, std::move(result_.frameRmse)));
    frames.Set("psnr", Adopt(env, std::move(result_.framePsnr)));
    frames.Set("ssim", Adopt(env, std::move(result_.frameSsim)));
    o.Set("perFrame", frames);
    o.Set("warnings", StringsToJs(env, result_.warnings));
    return o;
  }

 private:
  QualityOptions options_;
  QualityResult result_;
};

Napi::Value Compare(const Napi::CallbackInfo& info) {
  Napi::Object o = ObjectArgument(info, 0);
  QualityOptions options;
  options.reference = StringOption(o, "reference", "");
  options.distorted = StringOption(o, "distorted", "");
  if (options.reference.empty() || options.distorted.empty()) {
    throw Napi::TypeError::New(info.Env(), "compareVideos needs reference and distorted paths");
  }
  options.width = static_cast<int>(IntegerOption(o, "width", 0, 16, 16384));
  options.height = static_cast<int>(IntegerOption(o, "height", 0, 16, 16384));
  options.decoderThreads = static_cast<int>(IntegerOption(o, "decoderThreads", 1, 0, 64));
  options.referenceCrop = PictureCropOption(o);
  return Start(new QualityWorker(info.Env(), std::move(options)));
}

}  // namespace

void InitQuality(Napi::Env env, Napi::Object exports) {
  exports.Set("compareVideos", Napi::Function::New(env, Compare));
}

}  // namespace mvclass
