// HevcDecoder: HEVC through libde265, which FFmpeg cannot do for motion vectors (its HEVC
// decoder exports none). Packets come from libavformat as for every other codec; libde265
// decodes them; each output picture is handed back with its prediction blocks as
// AVMotionVector records (the layout FFmpeg gives for H.264), the reference picture's order
// count per record, and a zero-copy AVFrame view of its pixels for key frames.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.h"

extern "C" {
#include <libavcodec/bsf.h>
}

struct de265_image;

namespace mvclass {

// True when this build of the addon has libde265 (scripts/build-de265.sh ran before node-gyp).
bool HevcAvailable();
// libde265's version and whether its layout matches the headers compiled in ("" when it does).
std::string HevcLayoutMismatch();

// Owners of libde265's decoder (which its API declares as void) and of the bitstream filter.
struct De265Freer {
  void operator()(void* ctx) const;  // de265_free_decoder
};
struct BsfFreer {
  void operator()(AVBSFContext* bsf) const { av_bsf_free(&bsf); }
};

class HevcDecoder {
 public:
  // `stream` is the HEVC stream of the opened input; its extradata (hvcC or Annex-B) is used.
  HevcDecoder(const std::string& path, const AVStream* stream, bool pixels);
  HevcDecoder(const HevcDecoder&) = delete;
  HevcDecoder& operator=(const HevcDecoder&) = delete;

  // One demuxed packet, whose reference it takes (leaving it blank), or nullptr at the end.
  void Send(AVPacket* packet);
  // The next picture in output order, its vectors and pixels valid until the next call; false
  // when libde265 needs more input (or is drained).
  bool Receive(DecodedFrame& frame);
  // Deblocking and SAO change pixels only: off when no more key frames are wanted.
  void SkipLoopFilters();
  // Decoder messages since the last call, as text.
  std::vector<std::string> TakeWarnings();
  int64_t errors() const { return errors_; }

 private:
  void PushNals(const uint8_t* data, size_t size, int64_t serial);
  bool RepeatedParameterSet(const uint8_t* nal, size_t size);  // and remembers it if new
  void CollectWarnings();
  void WalkPredictionBlocks(const de265_image* image);

  std::string path_;
  std::unique_ptr<void, De265Freer> ctx_;  // de265_decoder_context
  std::unique_ptr<AVBSFContext, BsfFreer> bsf_;  // hevc_mp4toannexb: MP4/MKV length prefixes to start codes
  PacketPtr filtered_;
  FramePtr view_;                      // the current picture's pixels, pointing into libde265's
  std::vector<AVMotionVector> vectors_;  // the current picture's prediction blocks
  std::vector<int32_t> refPoc_;          // per vector, the order count of its reference
  struct PacketInfo {
    int64_t pts;
    int64_t bytes;
  };
  std::vector<PacketInfo> packets_;  // by serial; libde265 carries the serial as user data
  std::string lastParameterSet_[3];  // the last VPS, SPS and PPS pushed, byte for byte
  bool released_ = true;             // the last picture handed out was released
  bool flushed_ = false;
  int64_t errors_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace mvclass
