// VideoEncoder: raw YUV 4:2:0 frames in, an H.264 (or other libavcodec) stream out through
// libavformat. The demo and the test fixtures use it to make clips in-process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace mvclass {

struct EncoderOptions {
  std::string path;          // where the muxer writes (the TS layer passes a temporary path)
  std::string format;        // muxer name; empty: guessed from the path's extension
  std::string codec = "libx264";
  int width = 0, height = 0;
  int fpsNum = 25, fpsDen = 1;
  int qp = -1;               // >= 0: constant QP on every frame (no I/P offset, no AQ)
  double crf = -1;           // >= 0: constant rate factor
  int gop = 0;               // 0: one IDR at the start, every other frame predicted
  int bframes = 0;
  int meRange = 16;
  int refs = 1;
  int threads = 0;           // 0: libx264 picks
  std::string preset = "medium";
  bool cabac = true;
  std::string partitions;    // libx264 partitions list, e.g. "all" or "none"; empty: preset's
  std::string statsPath;     // libx264/libx265 pass-1 statistics file: per-frame bit split
};

// One frame of the encoder's own rate-control statistics (bits it spent on each part).
struct FrameBits {
  int display = 0;     // input (display) order
  int coded = 0;       // output (coding) order
  char type = '?';
  double qp = 0;
  int64_t texture = 0, motion = 0, other = 0;
};

struct PacketRecord {
  int64_t pts = 0;
  int64_t dts = 0;
  int64_t bytes = 0;
  bool key = false;
  char type = '?';
  int qp = -1;
};

class VideoEncoder {
 public:
  explicit VideoEncoder(const EncoderOptions& options);  // opens codec and output; throws
  // `yuv` holds `count` frames of planar YUV 4:2:0, each width*height*3/2 bytes.
  void Write(const uint8_t* yuv, size_t count, std::vector<PacketRecord>& out);
  void Finish(std::vector<PacketRecord>& out);  // flushes and writes the trailer
  // After Finish: the statistics libx264/libx265 wrote (empty without statsPath).
  const std::vector<FrameBits>& frameBits() const { return frameBits_; }
  int64_t extradataBytes() const { return extradataBytes_; }

 private:
  void Drain(std::vector<PacketRecord>& out);

  EncoderOptions options_;
  OutputPtr output_;  // null once Finish has closed it
  AVStream* stream_ = nullptr;
  CodecPtr codec_;
  FramePtr frame_;
  PacketPtr packet_;
  int64_t nextPts_ = 0;
  bool headerWritten_ = false;
  bool finished_ = false;
  std::vector<FrameBits> frameBits_;
  int64_t extradataBytes_ = 0;
};

// Parses an x264/x265 pass-1 statistics file ("in:0 out:0 type:I ... tex:N mv:N misc:N ;").
std::vector<FrameBits> ParseRateStats(const std::string& path);

}  // namespace mvclass
