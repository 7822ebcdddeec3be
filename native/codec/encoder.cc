#include "encoder.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

extern "C" {
#include <libavutil/opt.h>
}

namespace mvclass {

VideoEncoder::VideoEncoder(const EncoderOptions& options) : options_(options) {
  const std::string& path = options.path;
  const AVCodec* encoder = avcodec_find_encoder_by_name(options.codec.c_str());
  if (!encoder) throw CodecError(path + ": no encoder named " + options.codec + " in this FFmpeg");
  if (options.width <= 0 || options.height <= 0 || options.width % 2 || options.height % 2) {
    throw CodecError(path + ": frame size must be positive and even, got " +
                     std::to_string(options.width) + "x" + std::to_string(options.height));
  }

  AVFormatContext* muxer = nullptr;
  int ret = avformat_alloc_output_context2(&muxer, nullptr,
                                           options.format.empty() ? nullptr : options.format.c_str(),
                                           path.c_str());
  output_.reset(muxer);
  if (ret < 0 || !output_) ThrowAv(path, "cannot choose a container for this file name", ret);

  codec_.reset(avcodec_alloc_context3(encoder));
  if (!codec_) throw CodecError(path + ": out of memory allocating an encoder");
  AVCodecContext* c = codec_.get();
  c->width = options.width;
  c->height = options.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{options.fpsDen, options.fpsNum};
  c->framerate = AVRational{options.fpsNum, options.fpsDen};
  c->gop_size = options.gop > 0 ? options.gop : (1 << 30);  // libx264: 1<<30 is "infinite"
  c->max_b_frames = options.bframes;
  c->thread_count = options.threads;
  if (output_->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

  AVDictionary* opts = nullptr;
  if (options.codec == "libx264") {
    av_dict_set(&opts, "preset", options.preset.c_str(), 0);
    std::string params = "scenecut=0:merange=" + std::to_string(options.meRange) +
                         ":ref=" + std::to_string(options.refs) +
                         ":bframes=" + std::to_string(options.bframes);
    if (!options.cabac) params += ":cabac=0";
    if (!options.partitions.empty()) params += ":partitions=" + options.partitions;
    if (options.gop > 0) params += ":keyint=" + std::to_string(options.gop) + ":min-keyint=" +
                                   std::to_string(options.gop);
    else params += ":keyint=infinite";
    if (options.qp >= 0) {
      // The paper's fixed QP: the same QP for I and P frames, adaptive quantisation off.
      params += ":qp=" + std::to_string(options.qp) + ":ipratio=1:pbratio=1:aq-mode=0";
    } else if (options.crf >= 0) {
      params += ":crf=" + std::to_string(options.crf);
    }
    if (!options.statsPath.empty()) params += ":pass=1:stats=" + options.statsPath;
    av_dict_set(&opts, "x264-params", params.c_str(), 0);
  } else if (options.codec == "libx265") {
    av_dict_set(&opts, "preset", options.preset.c_str(), 0);
    std::string params = "log-level=error:scenecut=0:merange=" + std::to_string(options.meRange) +
                         ":ref=" + std::to_string(options.refs) +
                         ":bframes=" + std::to_string(options.bframes);
    if (options.gop > 0) params += ":keyint=" + std::to_string(options.gop) + ":min-keyint=" +
                                   std::to_string(options.gop) + ":no-open-gop=1";
    else params += ":keyint=-1";
    if (options.qp >= 0) {
      params += ":qp=" + std::to_string(options.qp) + ":ipratio=1:pbratio=1:aq-mode=0:cutree=0";
    } else if (options.crf >= 0) {
      params += ":crf=" + std::to_string(options.crf);
    }
    if (options.threads > 0) params += ":frame-threads=" + std::to_string(options.threads) + ":pools=" + std::to_string(options.threads);
    if (!options.statsPath.empty()) params += ":pass=1:stats=" + options.statsPath;
    av_dict_set(&opts, "x265-params", params.c_str(), 0);
  } else {
    if (options.qp >= 0) {
      // A fixed quantiser scale, as the ffmpeg CLI's -q:v sets it (for mjpeg, its q-scale 2-31).
      c->flags |= AV_CODEC_FLAG_QSCALE;
      c->global_quality = FF_QP2LAMBDA * options.qp;
    }
    if (options.codec == "mjpeg") {
      // The frames stay in limited-range YUV 4:2:0, as decoded: the loss measured is JPEG's alone,
      // not also a conversion to full range and back. FFmpeg marks such a JPEG ("CS=ITU601") and
      // its decoder gives limited-range YUV again; the standard leaves the range to JFIF's full.
      c->color_range = AVCOL_RANGE_MPEG;
      c->strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL;
      c->gop_size = 1;  // every picture stands alone (a larger interval only draws a warning)
      // Square pixels, said: with an aspect ratio the encoder writes the JFIF header (APP0), as
      // the ffmpeg CLI's output of a square-pixel input has it.
      c->sample_aspect_ratio = AVRational{1, 1};
    }
  }
  ret = avcodec_open2(c, encoder, &opts);
  av_dict_free(&opts);
  if (ret < 0) ThrowAv(path, "cannot open encoder " + options.codec, ret);

  stream_ = avformat_new_stream(output_.get(), nullptr);
  if (!stream_) throw CodecError(path + ": out of memory adding a stream");
  stream_->time_base = c->time_base;
  stream_->avg_frame_rate = c->framerate;
  ret = avcodec_parameters_from_context(stream_->codecpar, c);
  if (ret < 0) ThrowAv(path, "cannot copy encoder parameters", ret);

  if (!(output_->oformat->flags & AVFMT_NOFILE)) {
    ret = avio_open(&output_->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (ret < 0) ThrowAv(path, "cannot create the output file", ret);
  }
  ret = avformat_write_header(output_.get(), nullptr);
  if (ret < 0) ThrowAv(path, "cannot write the container header", ret);
  headerWritten_ = true;

  frame_ = AllocFrame();
  frame_->format = c->pix_fmt;
  frame_->width = c->width;
  frame_->height = c->height;
  ret = av_frame_get_buffer(frame_.get(), 0);
  if (ret < 0) ThrowAv(path, "cannot allocate a frame", ret);
  // Rows are padded to the CPU's alignment; zero the padding once so that the encoder never
  // sees uninitialised bytes, whatever its SIMD code reads past the width.
  for (int p = 0; p < 3; p++) {
    std::memset(frame_->data[p], 0, static_cast<size_t>(frame_->linesize[p]) * (p ? (c->height + 1) / 2 : c->height));
  }
  packet_ = AllocPacket();
}

void VideoEncoder::Drain(std::vector<PacketRecord>& out) {
  for (;;) {
    int ret = avcodec_receive_packet(codec_.get(), packet_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    if (ret < 0) ThrowAv(options_.path, "encoding failed", ret);
    PacketRecord record;
    record.pts = packet_->pts;
    record.dts = packet_->dts;
    record.bytes = packet_->size;
    record.key = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
    size_t statsSize = 0;
    const uint8_t* stats = av_packet_get_side_data(packet_.get(), AV_PKT_DATA_QUALITY_STATS, &statsSize);
    if (stats && statsSize >= 5) {
      int quality = stats[0] | (stats[1] << 8) | (stats[2] << 16) | (stats[3] << 24);
      record.qp = (quality + FF_QP2LAMBDA / 2) / FF_QP2LAMBDA;
      record.type = av_get_picture_type_char(static_cast<AVPictureType>(stats[4]));
    }
    out.push_back(record);
    packet_->stream_index = stream_->index;
    av_packet_rescale_ts(packet_.get(), codec_->time_base, stream_->time_base);
    ret = av_interleaved_write_frame(output_.get(), packet_.get());  // takes the packet's reference
    if (ret < 0) ThrowAv(options_.path, "cannot write a packet", ret);
  }
}

void VideoEncoder::Write(const uint8_t* yuv, size_t count, std::vector<PacketRecord>& out) {
  if (finished_ || !output_) throw CodecError(options_.path + ": the encoder is already finished");
  const int w = options_.width, h = options_.height;
  const size_t lumaBytes = static_cast<size_t>(w) * h, chromaBytes = lumaBytes / 4;
  for (size_t f = 0; f < count; f++) {
    int ret = av_frame_make_writable(frame_.get());
    if (ret < 0) ThrowAv(options_.path, "cannot reuse a frame", ret);
    const uint8_t* src = yuv + f * (lumaBytes + 2 * chromaBytes);
    const uint8_t* planes[3] = {src, src + lumaBytes, src + lumaBytes + chromaBytes};
    const int widths[3] = {w, w / 2, w / 2}, heights[3] = {h, h / 2, h / 2};
    for (int p = 0; p < 3; p++) {
      for (int y = 0; y < heights[p]; y++) {
        std::memcpy(frame_->data[p] + static_cast<size_t>(y) * frame_->linesize[p],
                    planes[p] + static_cast<size_t>(y) * widths[p], widths[p]);
      }
    }
    frame_->pts = nextPts_++;
    // FFmpeg's own encoders (mjpeg, mpeg4) take a fixed quantiser from each frame's quality, not
    // from the context: the ffmpeg CLI copies global_quality into every frame, and so do we.
    if (codec_->flags & AV_CODEC_FLAG_QSCALE) frame_->quality = codec_->global_quality;
    ret = avcodec_send_frame(codec_.get(), frame_.get());
    if (ret < 0) ThrowAv(options_.path, "cannot send a frame to the encoder", ret);
    Drain(out);
  }
}

void VideoEncoder::Finish(std::vector<PacketRecord>& out) {
  if (finished_ || !output_) return;
  finished_ = true;
  int ret = avcodec_send_frame(codec_.get(), nullptr);
  if (ret < 0) ThrowAv(options_.path, "cannot flush the encoder", ret);
  Drain(out);
  ret = av_write_trailer(output_.get());
  if (ret < 0) ThrowAv(options_.path, "cannot finish the container", ret);
  ret = CloseOutput(output_);
  if (ret < 0) ThrowAv(options_.path, "cannot close the output file", ret);
  extradataBytes_ = codec_->extradata_size;
  // libx264 and libx265 complete their statistics file when the encoder closes.
  codec_.reset();
  if (!options_.statsPath.empty()) frameBits_ = ParseRateStats(options_.statsPath);
}

std::vector<FrameBits> ParseRateStats(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CodecError(path + ": the encoder wrote no statistics");
  std::vector<FrameBits> frames;
  std::string line;
  auto field = [](const std::string& l, const char* key, std::string& value) {
    const size_t at = l.find(key);
    if (at == std::string::npos) return false;
    size_t start = at + std::strlen(key), end = start;
    while (end < l.size() && l[end] != ' ' && l[end] != ';') end++;
    value = l.substr(start, end - start);
    return true;
  };
  while (std::getline(in, line)) {
    if (line.rfind("in:", 0) != 0) continue;
    FrameBits f;
    std::string v;
    if (!field(line, "in:", v)) continue;
    f.display = std::stoi(v);
    if (field(line, " out:", v)) f.coded = std::stoi(v);
    if (field(line, " type:", v) && !v.empty()) f.type = v[0];
    if (field(line, " q:", v)) f.qp = std::stod(v);
    if (!field(line, " tex:", v)) throw CodecError(path + ": statistics line without tex: " + line);
    f.texture = std::stoll(v);
    if (field(line, " mv:", v)) f.motion = std::stoll(v);
    if (field(line, " misc:", v)) f.other = std::stoll(v);
    frames.push_back(f);
  }
  return frames;
}

}  // namespace mvclass
