#include "common.h"

#include "hevc.h"

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

extern "C" {
#include <libavutil/log.h>
}

namespace mvclass {

std::string AvErrorText(int code) {
  char buffer[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, buffer, sizeof(buffer));
  return buffer;
}

void ThrowAv(const std::string& path, const std::string& what, int code) {
  throw CodecError(path + ": " + what + ": " + AvErrorText(code));
}

FramePtr AllocFrame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw CodecError("out of memory allocating a frame");
  return frame;
}

PacketPtr AllocPacket() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw CodecError("out of memory allocating a packet");
  return packet;
}

int CloseOutput(OutputPtr& output) {
  int ret = 0;
  if (output && !(output->oformat->flags & AVFMT_NOFILE)) ret = avio_closep(&output->pb);
  output.reset();
  return ret;
}

namespace {
thread_local LogSink* currentSink = nullptr;
constexpr size_t kMaxLogLines = 64;

void LogCallback(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_WARNING) return;
  LogSink* sink = currentSink;
  if (sink == nullptr) return;  // no reader on this thread: stay quiet, errors surface as exceptions
  if (sink->lines.size() >= kMaxLogLines) {
    sink->dropped++;
    return;
  }
  char line[1024];
  int printPrefix = 1;
  av_log_format_line2(avcl, level, fmt, args, line, sizeof(line), &printPrefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  // "[h264 @ 0x55d...] error ..." -> "h264: error ...": the pointer means nothing to a user.
  const size_t at = text.find(" @ 0x"), close = text.find("] ");
  if (!text.empty() && text[0] == '[' && at != std::string::npos && close != std::string::npos && at < close) {
    text = text.substr(1, at - 1) + ": " + text.substr(close + 2);
  }
  if (text.rfind("NULL: ", 0) == 0) text = text.substr(6);  // a parser's context has no name
  // FFmpeg sometimes finishes a message in a second call ("."): keep only lines with words.
  bool words = false;
  for (char c : text) words = words || std::isalnum(static_cast<unsigned char>(c));
  const size_t colon = text.find(": ");
  if (colon != std::string::npos) {
    words = false;
    for (size_t i = colon + 2; i < text.size(); i++) words = words || std::isalnum(static_cast<unsigned char>(text[i]));
  }
  if (words) sink->lines.push_back(text);
}
}  // namespace

ScopedLogSink::ScopedLogSink(LogSink* sink) : previous_(currentSink) { currentSink = sink; }
ScopedLogSink::~ScopedLogSink() { currentSink = previous_; }

void InstallLogCallback() {
  // MVCLASS_AV_LOG=1 keeps FFmpeg's own stderr logging, for debugging a file.
  const char* keep = std::getenv("MVCLASS_AV_LOG");
  if (keep != nullptr && keep[0] == '1') return;
  av_log_set_callback(LogCallback);
}

bool ExportsMotionVectors(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_H264:
    // FFmpeg's mpegvideo family: every decoder that hands its pictures to ff_print_debug_info,
    // which is where export_mvs attaches the vectors (FFmpeg 5.1's h263dec.c, mpeg12dec.c,
    // h261dec.c, rv10.c). Each is compared with extract_mvs in test/codec/codecs.test.ts.
    case AV_CODEC_ID_MPEG1VIDEO:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MPEG4:
    case AV_CODEC_ID_H261:
    case AV_CODEC_ID_H263:
    case AV_CODEC_ID_H263P:
    case AV_CODEC_ID_H263I:  // Intel H.263: ff_h263_decode_frame like H.263 (no encoder to test)
    case AV_CODEC_ID_FLV1:   // Sorenson H.263 in Flash video
    case AV_CODEC_ID_MSMPEG4V1:  // ff_h263_decode_frame like v2/v3 (FFmpeg has no v1 encoder to test)
    case AV_CODEC_ID_MSMPEG4V2:
    case AV_CODEC_ID_MSMPEG4V3:  // DivX 3
    case AV_CODEC_ID_WMV1:
    case AV_CODEC_ID_WMV2:
    case AV_CODEC_ID_RV10:
    case AV_CODEC_ID_RV20:
    // Snow (wavelet, overlapped blocks) exports its block vectors itself (snowdec.c).
    case AV_CODEC_ID_SNOW:
      return true;
    // Not VC-1/WMV3: vc1dec.c calls ff_print_debug_info too, but vc1_block.c marks inter
    // macroblocks MB_TYPE_16x16 without the list-0 flag that the export tests, so no vectors
    // come out; FFmpeg has no VC-1 encoder to make a clip that would show otherwise.
    case AV_CODEC_ID_HEVC:  // through libde265, when this build has it
      return HevcAvailable();
    default:
      return false;
  }
}

InputKind KindOfInput(const std::string& path) {
  if (path == "-") return InputKind::kStdin;
  for (const char* scheme : {"http://", "https://", "rtsp://", "rtsps://"}) {
    if (path.rfind(scheme, 0) == 0) return InputKind::kNetwork;
  }
  return InputKind::kFile;
}

namespace {
struct DictionaryFreer {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};
}  // namespace

OpenedInput OpenVideoInput(const std::string& path, bool requireVectors, const InputOptions& inputOptions) {
  OpenedInput input;
  input.kind = KindOfInput(path);
  AVDictionary* raw = nullptr;
  std::string url = path;
  switch (input.kind) {
    case InputKind::kStdin:
      url = "pipe:0";
      av_dict_set(&raw, "protocol_whitelist", "pipe", 0);
      break;
    case InputKind::kNetwork:
      av_dict_set(&raw, "protocol_whitelist", "http,https,tls,tcp,udp,rtp,rtsp,rtsps,httpproxy,crypto", 0);
      // Microseconds: a server that stops answering ends the read with an error, not a hang.
      av_dict_set(&raw, "rw_timeout", "15000000", 0);
      av_dict_set(&raw, "timeout", "15000000", 0);
      break;
    case InputKind::kFile:
      url = "file:" + path;  // a name with a colon is still a file
      av_dict_set(&raw, "protocol_whitelist", "file", 0);
      break;
  }
  for (const auto& [key, value] : inputOptions) av_dict_set(&raw, key.c_str(), value.c_str(), 0);
  std::unique_ptr<AVDictionary, DictionaryFreer> options(raw);
  AVFormatContext* context = nullptr;
  AVDictionary* pass = options.release();
  int ret = avformat_open_input(&context, url.c_str(), nullptr, &pass);
  options.reset(pass);  // what no demuxer or protocol took
  if (ret < 0) ThrowAv(path, input.kind == InputKind::kFile ? "cannot open as a video file" : "cannot open the stream", ret);
  input.format.reset(context);
  for (const auto& [key, value] : inputOptions) {
    if (av_dict_get(options.get(), key.c_str(), nullptr, 0)) {
      throw CodecError(path + ": input option " + key + " is not an option of this demuxer or protocol");
    }
  }

  // FFmpeg decodes the first frames to learn the stream: bounded like every decoder (below).
  std::vector<AVDictionary*> probeOptions(input.format->nb_streams, nullptr);
  for (AVDictionary*& d : probeOptions) av_dict_set_int(&d, "max_pixels", kMaxPicturePixels, 0);
  ret = avformat_find_stream_info(input.format.get(), probeOptions.empty() ? nullptr : probeOptions.data());
  for (AVDictionary*& d : probeOptions) av_dict_free(&d);
  if (ret < 0) ThrowAv(path, "cannot read stream information", ret);

  ret = av_find_best_stream(input.format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &input.decoder, 0);
  if (ret == AVERROR_STREAM_NOT_FOUND) {
    std::string kinds;
    for (unsigned i = 0; i < input.format->nb_streams; i++) {
      const char* kind = av_get_media_type_string(input.format->streams[i]->codecpar->codec_type);
      if (!kinds.empty()) kinds += ", ";
      kinds += kind ? kind : "unknown";
    }
    throw CodecError(path + ": no video stream (found " +
                     (kinds.empty() ? std::string("no streams") : kinds) + ")");
  }
  if (ret == AVERROR_DECODER_NOT_FOUND) {
    throw CodecError(path + ": no decoder for its video codec");
  }
  if (ret < 0) ThrowAv(path, "cannot select a video stream", ret);
  input.streamIndex = ret;

  const AVCodecParameters* par = input.format->streams[ret]->codecpar;
  if (requireVectors && par->codec_id == AV_CODEC_ID_HEVC && !HevcAvailable()) {
    throw CodecError(path + ": " + HevcLayoutMismatch());
  }
  if (requireVectors && !ExportsMotionVectors(par->codec_id)) {
    throw CodecError(path + ": codec " + avcodec_get_name(par->codec_id) +
                     " has no motion vectors that mvclass can read; it reads H.264, HEVC, "
                     "MPEG-1/2, MPEG-4 Part 2 (also MS-MPEG-4 v1-3, WMV1/2), H.261, H.263/H.263+, "
                     "Sorenson H.263 (FLV1), RealVideo 1/2 and Snow");
  }
  if (par->width <= 0 || par->height <= 0) {
    throw CodecError(path + ": video stream has no frame size (damaged header?)");
  }
  return input;
}

CodecPtr OpenDecoder(const std::string& path, const OpenedInput& input, const DecoderSettings& settings) {
  const AVStream* stream = input.format->streams[input.streamIndex];
  CodecPtr codec(avcodec_alloc_context3(input.decoder));
  if (!codec) throw CodecError(path + ": out of memory allocating a decoder");
  int ret = avcodec_parameters_to_context(codec.get(), stream->codecpar);
  if (ret < 0) ThrowAv(path, "cannot configure the decoder", ret);
  codec->thread_count = settings.threads;
  codec->pkt_timebase = stream->time_base;
  codec->max_pixels = kMaxPicturePixels;
  if (settings.skipLoopFilter) codec->skip_loop_filter = AVDISCARD_ALL;
  AVDictionary* raw = nullptr;
  if (settings.exportVectors) av_dict_set(&raw, "flags2", "+export_mvs", 0);
  std::unique_ptr<AVDictionary, DictionaryFreer> options(raw);
  AVDictionary* pass = options.release();
  ret = avcodec_open2(codec.get(), input.decoder, &pass);
  options.reset(pass);
  if (ret < 0) ThrowAv(path, "cannot open the decoder", ret);
  return codec;
}

void ApplyPictureCrop(AVFrame* frame, const PictureCrop& crop, const std::string& path) {
  if (crop.whole()) return;
  if (crop.x < 0 || crop.y < 0 || crop.x + crop.width > frame->width || crop.y + crop.height > frame->height) {
    throw CodecError(path + ": the region " + std::to_string(crop.x) + "," + std::to_string(crop.y) + "," +
                     std::to_string(crop.width) + "," + std::to_string(crop.height) + " (x,y,w,h) does not fit its " +
                     std::to_string(frame->width) + "x" + std::to_string(frame->height) + " picture");
  }
  frame->crop_left = static_cast<size_t>(crop.x);
  frame->crop_top = static_cast<size_t>(crop.y);
  frame->crop_right = static_cast<size_t>(frame->width - crop.x - crop.width);
  frame->crop_bottom = static_cast<size_t>(frame->height - crop.y - crop.height);
  // Unaligned: exactly the rectangle asked for (FFmpeg would otherwise round the left edge down).
  const int ret = av_frame_apply_cropping(frame, AV_FRAME_CROP_UNALIGNED);
  if (ret < 0) ThrowAv(path, "the region could not be cut from its picture", ret);
}

}  // namespace mvclass
