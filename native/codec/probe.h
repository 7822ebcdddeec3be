// probe: what a video file holds, counted from its packets (demux only, no decoding).
#pragma once

#include <cstdint>
#include <string>

#include "common.h"

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
  bool counted = true;        // frameCount and videoBytes come from reading every packet
};

// A local file is read to its end to count packets. Standard input (which can be read only
// once) and network streams (which may never end) are not: their counts come from the headers.
ProbeResult Probe(const std::string& path, const InputOptions& inputOptions = {});

}  // namespace mvclass
