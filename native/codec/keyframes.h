// Key frames: decoded I/IDR pictures converted to packed RGB24 with libswscale, the input of
// the spatial stream.
#pragma once

#include <cstdint>
#include <vector>

#include "common.h"

namespace mvclass {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes, rows packed
};

class KeyFrameConverter {
 public:
  // 0 for a dimension keeps the source size; one of them 0 keeps the aspect ratio.
  KeyFrameConverter(int width, int height) : width_(width), height_(height) {}
  RgbImage Convert(const AVFrame* frame);

 private:
  int width_, height_;
  SwsContext* sws_ = nullptr;  // owned; sws_getCachedContext may replace it
  SwsPtr owner_;
  std::vector<uint8_t> scratch_;  // swscale's output rows, padded (Convert says why)
};

}  // namespace mvclass
