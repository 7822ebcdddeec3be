// Shared helpers for the codec addon: RAII owners for libav* objects, the error type every
// failure becomes, and the per-thread sink that collects FFmpeg's log lines for one reader.
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libavutil/motion_vector.h>
#include <libswscale/swscale.h>
}

namespace mvclass {

// Every failure in the codec layer is a CodecError whose message already names the file.
class CodecError : public std::runtime_error {
 public:
  explicit CodecError(const std::string& message) : std::runtime_error(message) {}
};

std::string AvErrorText(int code);
[[noreturn]] void ThrowAv(const std::string& path, const std::string& what, int code);

// Owners that free libav* objects on every path, exceptions included.
struct FormatCloser {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
struct CodecFreer {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsFreer {
  void operator()(SwsContext* ctx) const { sws_freeContext(ctx); }
};
// A muxer: closes the file it opened (formats without one have none) and frees the context.
// CloseOutput is the checked way to end one; this owner is the path for errors.
struct OutputCloser {
  void operator()(AVFormatContext* ctx) const {
    if (ctx->pb && !(ctx->oformat->flags & AVFMT_NOFILE)) avio_closep(&ctx->pb);
    avformat_free_context(ctx);
  }
};
struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using OutputPtr = std::unique_ptr<AVFormatContext, OutputCloser>;
using FilePtr = std::unique_ptr<FILE, FileCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;
using SwsPtr = std::unique_ptr<SwsContext, SwsFreer>;

FramePtr AllocFrame();
PacketPtr AllocPacket();
// Closes a muxer's file and frees the muxer (after its trailer); returns avio_closep's code.
int CloseOutput(OutputPtr& output);

// FFmpeg logs through one global callback. A reader installs a LogSink on the worker thread
// that runs its decode step, so warnings land with the file they belong to instead of on stderr.
struct LogSink {
  std::vector<std::string> lines;
  size_t dropped = 0;
};
class ScopedLogSink {
 public:
  explicit ScopedLogSink(LogSink* sink);
  ~ScopedLogSink();
  ScopedLogSink(const ScopedLogSink&) = delete;
  ScopedLogSink& operator=(const ScopedLogSink&) = delete;

 private:
  LogSink* previous_;
};
void InstallLogCallback();

// One decoded picture as either decoder (FFmpeg's, or libde265 in hevc.h) hands it to the reader;
// the pointers stay valid until that decoder's next picture.
struct DecodedFrame {
  char type = '?';
  bool key = false;
  int64_t bits = 0;             // of the packet (access unit) the picture came from
  int64_t ts = AV_NOPTS_VALUE;  // stream time base
  const AVMotionVector* vectors = nullptr;
  size_t count = 0;
  const int32_t* refPoc = nullptr;  // HEVC: per vector, the order count of its reference picture
  const AVFrame* pixels = nullptr;
};

// The codecs mvclass reads vectors from: those whose FFmpeg decoders attach
// AV_FRAME_DATA_MOTION_VECTORS when export_mvs is set, and HEVC through libde265 (hevc.h).
bool ExportsMotionVectors(AVCodecID id);

// Opens `path`, finds its best video stream and checks that FFmpeg can export its vectors
// (unless `requireVectors` is false). Throws CodecError naming the file and the problem.
//
// `path` is a local file, "-" for standard input, or an http(s):// or rtsp(s):// URL. Each kind
// may use only its own protocols (a local file cannot pull in a network stream through a
// playlist, a URL cannot read local files), network reads time out instead of hanging, and
// `inputOptions` are demuxer/protocol options as `ffmpeg -i` takes them (rtsp_transport=tcp …).
enum class InputKind { kFile, kStdin, kNetwork };
InputKind KindOfInput(const std::string& path);

using InputOptions = std::vector<std::pair<std::string, std::string>>;

// The largest picture a decoder may allocate: H.264's largest level (6.2, 139,264 macroblocks
// of 256 pixels; 8192x4352). FFmpeg's own limit is far larger, and an 800-byte stream declaring
// 16016x16016 made it allocate 2 GB while probing (found by the crop fuzz target).
constexpr int64_t kMaxPicturePixels = 139264LL * 256;

struct OpenedInput {
  FormatPtr format;
  int streamIndex = -1;
  const AVCodec* decoder = nullptr;
  InputKind kind = InputKind::kFile;
};
OpenedInput OpenVideoInput(const std::string& path, bool requireVectors, const InputOptions& inputOptions = {});

// How a reader, crop or transcode wants FFmpeg's decoder of the input's video stream.
struct DecoderSettings {
  // FFmpeg's thread_count (0: FFmpeg picks). Vectors need 1: FFmpeg 5.1's frame threading
  // corrupts exported vectors of streams with B-frames.
  int threads = 1;
  bool exportVectors = false;   // flags2 +export_mvs: AV_FRAME_DATA_MOTION_VECTORS on each frame
  bool skipLoopFilter = false;  // the deblocking filter changes pixels only, never vectors
};
// A rectangle of the picture kept by a region-of-interest re-encode (transcode) and by the
// quality comparison's reference; width 0: the whole picture. Pixels are cut from the decoded
// frame (not the bitstream crop of crop.h, which keeps coded macroblocks).
struct PictureCrop {
  int x = 0, y = 0, width = 0, height = 0;
  bool whole() const { return width <= 0 || height <= 0; }
};
// Cuts `frame` to `crop` in place (its data pointers and size; no copy). Throws CodecError
// naming `path` when the rectangle does not fit the frame.
void ApplyPictureCrop(AVFrame* frame, const PictureCrop& crop, const std::string& path);

// The decoder of `input`'s video stream, configured from the stream's parameters and opened.
// Throws CodecError naming `path`.
CodecPtr OpenDecoder(const std::string& path, const OpenedInput& input, const DecoderSettings& settings);

}  // namespace mvclass
