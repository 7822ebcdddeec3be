#include "transcode.h"

#include <cmath>
#include <cstring>

namespace mvclass {

TranscodeResult Transcode(const TranscodeOptions& options) {
  LogSink log;
  ScopedLogSink sink(&log);
  const std::string& path = options.input;
  OpenedInput input = OpenVideoInput(path, false);
  AVStream* stream = input.format->streams[input.streamIndex];

  DecoderSettings settings;
  settings.threads = options.decoderThreads;  // pixels only: frame threading is safe here
  CodecPtr decoder = OpenDecoder(path, input, settings);
  int ret = 0;

  TranscodeResult result;
  EncoderOptions enc = options.encoder;
  const bool cropped = !options.crop.whole();
  if (enc.width <= 0) enc.width = (cropped ? options.crop.width : stream->codecpar->width) & ~1;
  if (enc.height <= 0) enc.height = (cropped ? options.crop.height : stream->codecpar->height) & ~1;
  if (enc.fpsNum <= 0) {
    AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = AVRational{25, 1};
    enc.fpsNum = rate.num;
    enc.fpsDen = rate.den;
  }
  result.width = enc.width;
  result.height = enc.height;
  result.fpsNum = enc.fpsNum;
  result.fpsDen = enc.fpsDen;
  const double fps = double(enc.fpsNum) / enc.fpsDen;
  VideoEncoder encoder(enc);

  const size_t lumaBytes = static_cast<size_t>(enc.width) * enc.height;
  std::vector<uint8_t> current(lumaBytes * 3 / 2), previous;
  SwsContext* sws = nullptr;
  SwsPtr swsOwner;
  FramePtr frame = AllocFrame();
  PacketPtr packet = AllocPacket();
  const int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  int64_t nextOut = 0;

  auto convert = [&](const AVFrame* f) {
    SwsContext* next = sws_getCachedContext(sws, f->width, f->height, static_cast<AVPixelFormat>(f->format),
                                            enc.width, enc.height, AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr,
                                            nullptr, nullptr);
    if (next != sws) {
      swsOwner.release();
      swsOwner.reset(next);
      sws = next;
    }
    if (!sws) throw CodecError(path + ": cannot convert its pixel format");
    uint8_t* dst[4] = {current.data(), current.data() + lumaBytes, current.data() + lumaBytes * 5 / 4, nullptr};
    int stride[4] = {enc.width, enc.width / 2, enc.width / 2, 0};
    sws_scale(sws, f->data, f->linesize, 0, f->height, dst, stride);
  };

  // Constant-rate output: slot n shows the last input frame whose time is at or before n/fps
  // (rounded to the nearest slot): frames are duplicated to fill gaps and dropped when early.
  auto place = [&](const AVFrame* f) {
    const int64_t ts = f->best_effort_timestamp;
    const double t = ts != AV_NOPTS_VALUE ? (ts - start) * av_q2d(stream->time_base) : result.inputFrames / fps;
    const int64_t slot = std::llround(t * fps);
    result.inputFrames++;
    if (slot < nextOut) return;  // an extra frame for a slot already filled
    convert(f);
    while (nextOut < slot && !previous.empty()) {
      encoder.Write(previous.data(), 1, result.packets);
      nextOut++;
    }
    nextOut = std::max(nextOut, slot);
    encoder.Write(current.data(), 1, result.packets);
    nextOut++;
    previous.swap(current);
    current.resize(lumaBytes * 3 / 2);
  };

  auto drain = [&]() {
    for (;;) {
      ret = avcodec_receive_frame(decoder.get(), frame.get());
      if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
      if (ret < 0) {
        log.lines.push_back(std::string("a frame could not be decoded: ") + AvErrorText(ret));
        return;
      }
      ApplyPictureCrop(frame.get(), options.crop, path);
      place(frame.get());
      av_frame_unref(frame.get());
    }
  };

  for (;;) {
    ret = av_read_frame(input.format.get(), packet.get());
    if (ret < 0) break;  // end of file, or a damaged tail: encode what was read
    if (packet->stream_index == input.streamIndex) {
      ret = avcodec_send_packet(decoder.get(), packet.get());
      if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA) {
        av_packet_unref(packet.get());
        ThrowAv(path, "the decoder rejected a packet", ret);
      }
    }
    av_packet_unref(packet.get());
    drain();
  }
  avcodec_send_packet(decoder.get(), nullptr);
  drain();
  if (nextOut == 0) throw CodecError(path + ": no video frame could be decoded");
  result.frames = nextOut;
  encoder.Finish(result.packets);
  result.frameBits = encoder.frameBits();
  result.extradataBytes = encoder.extradataBytes();
  for (const std::string& line : log.lines) result.warnings.push_back(path + ": " + line);
  return result;
}

}  // namespace mvclass
