// crop: an H.264 stream with its P-frame texture removed. IDR (and other intra) access units
// are copied bit for bit; every P slice is rewritten with the same partitions and motion
// vectors and no residual, under a second, CAVLC picture parameter set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mvclass {

struct CropOptions {
  std::string input;
  std::string output;  // written as given; the TS layer passes a temporary path
  bool annexB = false;  // raw .264 output instead of MP4
};

struct CropResult {
  int64_t frames = 0, copiedFrames = 0, rewrittenFrames = 0;
  int64_t skippedMbs = 0, interMbs = 0, intraMbs = 0;
  int64_t inputVideoBytes = 0;  // bytes of the input's video packets
  int64_t outputVideoBytes = 0; // bytes of the output's video packets (parameter sets included)
  int64_t parameterSetBytes = 0;
  double duration = 0;          // seconds, from the frame count and rate
  std::vector<std::string> warnings;  // what the decoder logged (a damaged input)
  std::vector<int64_t> frameBytes;     // each output access unit, in decoding order
  std::string frameKinds;              // per access unit: 'C' copied (intra), 'R' rewritten P
};

CropResult CropH264(const CropOptions& options);

}  // namespace mvclass
