// probe: what a video file holds, counted from its packets (demux only, no decoding).
#pragma once

#include <cstdint>
#include <string>

namespace mvclass {

struct ProbeResult {
  std::string container;
  std::string codec;
  std::string pixelFormat;
  int width = 0, height = 0;
  double fps = 0;
  int64_t frameCount = 0;     // video packets (one per frame for progressive video)
  double duration = 0;        // seconds
  int64_t videoBytes = 0;     // bytes in video packets
  double bitrate = 0;         // video bits per second
  bool hasBFrames = false;
  bool motionVectors = false; // FFmpeg exports vectors for this codec
};

ProbeResult Probe(const std::string& path);

}  // namespace mvclass
