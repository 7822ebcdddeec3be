// transcode: any video in, re-encoded at the given size, rate and encoder settings (the
// rate-accuracy paper's: 320x240, 25 fps, one IDR then P frames, search range 16, fixed QP), with
// the encoder's per-frame bit split. The paper: Jubran, Abbas, Chadha, Andreopoulos, "Rate-Accuracy
// Trade-Off in Video Classification With Deep Convolutional Neural Networks", IEEE TCSVT, 2020.
#pragma once

#include <string>
#include <vector>

#include "common.h"
#include "encoder.h"

namespace mvclass {

struct TranscodeOptions {
  std::string input;
  EncoderOptions encoder;  // width/height 0: the input's; fpsNum 0: the input's rate
  int decoderThreads = 0;  // pixels only, so frame threading is safe here
  PictureCrop crop;        // the region kept, before scaling to the encoder's size (default: the region's)
};

struct TranscodeResult {
  int width = 0, height = 0;
  int fpsNum = 0, fpsDen = 1;
  int64_t inputFrames = 0;
  int64_t frames = 0;  // frames encoded (after rate conversion)
  std::vector<PacketRecord> packets;
  std::vector<FrameBits> frameBits;
  int64_t extradataBytes = 0;
  std::vector<std::string> warnings;  // what the decoder logged (a damaged input)
};

TranscodeResult Transcode(const TranscodeOptions& options);

}  // namespace mvclass
