// The codec addon's registration: per-environment state and each binding's Init (addon.cc calls
// them). The N-API helpers they use are in napi_util.h, shared with the nn addon.
#pragma once

#include <napi.h>

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

}  // namespace mvclass
