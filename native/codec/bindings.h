// The codec addon's registration: per-environment state and each binding's Init (addon.cc calls
// them). The N-API helpers they use are in napi_util.h, shared with the nn addon.
#pragma once

#include <napi.h>

#include "common.h"
#include "napi_util.h"

namespace mvclass {

// Per-environment state: the class constructors, held by N-API's single instance-data slot.
struct AddonData {
  Napi::FunctionReference reader;
  Napi::FunctionReference encoder;
};

void InitReader(Napi::Env env, Napi::Object exports, AddonData& data);
void InitEncoder(Napi::Env env, Napi::Object exports, AddonData& data);
void InitCrop(Napi::Env env, Napi::Object exports);
void InitQuality(Napi::Env env, Napi::Object exports);

// The picture region in options cropX, cropY, cropWidth, cropHeight (absent: the whole picture).
inline PictureCrop PictureCropOption(const Napi::Object& o) {
  PictureCrop crop;
  crop.width = static_cast<int>(IntegerOption(o, "cropWidth", 0, 0, 16384));
  crop.height = static_cast<int>(IntegerOption(o, "cropHeight", 0, 0, 16384));
  crop.x = static_cast<int>(IntegerOption(o, "cropX", 0, 0, 16384));
  crop.y = static_cast<int>(IntegerOption(o, "cropY", 0, 0, 16384));
  if ((crop.width == 0) != (crop.height == 0)) throw Napi::RangeError::New(o.Env(), "options cropWidth and cropHeight go together");
  return crop;
}

}  // namespace mvclass
