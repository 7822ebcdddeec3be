// MotionReader: demuxes and decodes one video file single-threaded, and turns each decoded
// frame into a FrameRecord plus (as asked) its motion-vector columns, its MotionGrid, and, for
// I frames, an RGB key frame. Plain C++: the N-API layer copies options in and results out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "grid.h"
#include "hevc.h"
#include "keyframes.h"

namespace mvclass {

struct ReaderOptions {
  std::string path;
  bool vectors = true;       // keep every AVMotionVector as columns
  int gridBlock = 0;         // > 0: build a MotionGrid per frame with this block size
  int gridSource = -1;       // list that fills the grid
  bool gridQuarterPel = false;
  bool keyFrames = false;    // convert I frames to RGB
  bool firstKeyFrameOnly = false;  // stop after the first (then skip the deblocking filter too)
  int keyWidth = 0, keyHeight = 0;
  // Decoded-frame clips: these display indices (strictly increasing, at most kMaxClipFrames)
  // converted to RGB with the short side clipShortSide (even, at most kMaxClipShortSide).
  std::vector<int64_t> clipIndices;
  // Or, instead of indices, every clipStride-th display frame (0, k, 2k, ...) to the end, however
  // many: a stream of frames (batch by batch), never held by the reader.
  int64_t clipStride = 0;
  int clipShortSide = 0;
  bool WantsClip() const { return !clipIndices.empty() || clipStride > 0; }
  bool requireVectors = true;  // refuse codecs FFmpeg exports no vectors for
  InputOptions inputOptions;   // demuxer/protocol options (common.h, OpenVideoInput)
};

struct FrameRecord {
  int64_t index = 0;       // display order, from 0
  double pts = 0;          // seconds from the stream's start
  char type = '?';         // I, P, B, or ? when the decoder gave none
  bool key = false;
  int64_t bits = 0;        // size of the packet this frame was decoded from
  uint32_t vectorStart = 0, vectorCount = 0;  // slice of the batch's vector columns (count always set)
  double magnitude = 0;    // sum of |motion| in pixels over the frame's vectors
  int32_t keyFrame = -1;   // index into the batch's key frames
};

struct VectorColumns {
  std::vector<int8_t> source;
  std::vector<uint8_t> w, h;
  std::vector<int16_t> srcX, srcY, dstX, dstY;
  std::vector<uint64_t> flags;
  std::vector<int32_t> motionX, motionY;
  std::vector<uint16_t> scale;
  // HEVC only (libde265 knows it, FFmpeg does not export it): the reference picture's order count.
  bool hasRefPoc = false;
  std::vector<int32_t> refPoc;
  size_t size() const { return source.size(); }
  void Append(const AVMotionVector* mvs, size_t n, const int32_t* refPocs);
};

struct KeyFrame {
  int64_t index = 0;
  double pts = 0;
  char type = 'I';
  RgbImage image;
};

// Bounds the binding checks before anything is allocated (the TypeScript layer checks them too).
constexpr size_t kMaxClipFrames = 1024;
constexpr int kMaxClipShortSide = 4096;
constexpr int kMaxClipLongSide = 16384;  // the manifest's bound on an image side (src/cache/validate.ts)

struct ClipFrame {
  int64_t index = 0;  // display order
  RgbImage image;
};

struct ReadBatch {
  std::vector<FrameRecord> frames;
  VectorColumns vectors;
  int gridRows = 0, gridCols = 0;
  std::vector<float> gridPixels;       // [frames, 2, rows, cols] when !gridQuarterPel
  std::vector<int16_t> gridQuarterPels;  // [frames, 2, rows, cols] when gridQuarterPel
  std::vector<uint8_t> gridMask;       // [frames, rows, cols]
  std::vector<KeyFrame> keyFrames;
  std::vector<ClipFrame> clipFrames;
  std::vector<std::string> warnings;
  bool done = false;
  // On the last batch: the most frequent list-0 vector of the whole file, in quarter-pels.
  bool hasDominant = false;
  int dominantX = 0, dominantY = 0;
  int64_t dominantCount = 0, list0Count = 0;
};

struct StreamSummary {
  std::string codec;
  int width = 0, height = 0;
  double fps = 0;
};

class MotionReader {
 public:
  explicit MotionReader(const ReaderOptions& options);  // opens the file; throws CodecError
  // Decodes until `maxFrames` frames are out or the stream ends; safe to call after the end.
  void Read(size_t maxFrames, ReadBatch& batch);
  const StreamSummary& summary() const { return summary_; }

 private:
  void HandleFrame(const DecodedFrame& decoded, ReadBatch& batch);
  void SkipLoopFilterWhenDone();  // once neither key frames nor clip frames want pixels
  DecodedFrame FromFfmpeg() const;
  bool NextPacket(ReadBatch& batch);   // the next packet of our stream into packet_; false at the end
  bool FeedDecoder(ReadBatch& batch);  // false once the decoder (FFmpeg's or libde265) is flushed
  void ReadFfmpeg(size_t maxFrames, ReadBatch& batch);
  void ReadHevc(size_t maxFrames, ReadBatch& batch);
  void Finish(ReadBatch& batch);

  ReaderOptions options_;
  OpenedInput input_;
  CodecPtr codec_;                     // FFmpeg's decoder, or null when libde265 decodes
  std::unique_ptr<HevcDecoder> hevc_;  // HEVC with vectors asked for
  FramePtr frame_;
  PacketPtr packet_;
  StreamSummary summary_;
  GridAccumulator grid_;
  GridSpec gridSpec_;
  std::unique_ptr<KeyFrameConverter> converter_;
  std::unique_ptr<KeyFrameConverter> clipConverter_;  // null when no clip is asked for, or once it is complete
  size_t nextClip_ = 0;                               // next entry of options_.clipIndices
  bool ClipWants(int64_t index) const;                // whether display frame `index` is a clip frame
  AVRational timeBase_{0, 1};
  int64_t startPts_ = 0;
  int64_t framesOut_ = 0;
  int64_t decodeErrors_ = 0;
  // Histogram of list-0 vectors in quarter-pels, dense within +-kHistRange, for the summary.
  static constexpr int kHistRange = 256;
  std::vector<uint32_t> histogram_;
  int64_t list0Count_ = 0;
  bool flushed_ = false;
  bool finished_ = false;
  LogSink log_;
};

}  // namespace mvclass
