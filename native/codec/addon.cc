// Registration of the codec addon: the reader (probe, readMotion, grids, key frames) and the
// encoder. Everything here is libav*-only; libtorch lives in a separate addon.
#include <napi.h>

#include "common.h"
#include "bindings.h"

namespace mvclass {
void InitText(Napi::Env env, Napi::Object exports);  // text.cc: extract's CSV/JSON rows
}  // namespace mvclass

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mvclass::InstallLogCallback();
  auto* data = new mvclass::AddonData();
  env.SetInstanceData<mvclass::AddonData>(data);
  mvclass::InitReader(env, exports, *data);
  mvclass::InitEncoder(env, exports, *data);
  mvclass::InitCrop(env, exports);
  mvclass::InitQuality(env, exports);
  mvclass::InitText(env, exports);
  exports.Set("ffmpegVersion", Napi::String::New(env, av_version_info()));
  return exports;
}
}  // namespace

NODE_API_MODULE(mvclass_codec, Init)
