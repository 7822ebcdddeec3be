#include "probe.h"

#include "common.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace mvclass {

ProbeResult Probe(const std::string& path, const InputOptions& inputOptions) {
  LogSink quiet;
  ScopedLogSink sink(&quiet);
  OpenedInput input = OpenVideoInput(path, false, inputOptions);
  AVFormatContext* format = input.format.get();
  AVStream* stream = format->streams[input.streamIndex];
  const AVCodecParameters* par = stream->codecpar;

  ProbeResult result;
  result.container = format->iformat->name;
  result.codec = avcodec_get_name(par->codec_id);
  const char* pix = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
  result.pixelFormat = pix ? pix : "unknown";
  result.width = par->width;
  result.height = par->height;
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  result.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  result.motionVectors = ExportsMotionVectors(par->codec_id);

  // Count packets: headers lie (or are absent in raw streams), packets do not.
  PacketPtr packet = AllocPacket();
  int64_t maxPts = AV_NOPTS_VALUE;
  bool reordered = false;
  int64_t firstPts = AV_NOPTS_VALUE, lastEnd = AV_NOPTS_VALUE;
  const int64_t frameTicks = result.fps > 0 ? av_rescale_q(1, av_inv_q(rate), stream->time_base) : 0;
  result.counted = input.kind == InputKind::kFile;
  if (!result.counted) {
    result.frameCount = stream->nb_frames > 0 ? stream->nb_frames : 0;
    result.hasBFrames = par->video_delay > 0;
    if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
      result.duration = stream->duration * av_q2d(stream->time_base);
    } else if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
      result.duration = static_cast<double>(format->duration) / AV_TIME_BASE;
    }
    if (result.frameCount == 0 && result.duration > 0 && result.fps > 0) {
      result.frameCount = static_cast<int64_t>(result.duration * result.fps + 0.5);
    }
    result.bitrate = par->bit_rate > 0 ? static_cast<double>(par->bit_rate) : 0;
    return result;
  }
  for (;;) {
    int ret = av_read_frame(format, packet.get());
    if (ret < 0) break;  // EOF or a damaged tail: probe reports what it could count
    if (packet->stream_index == input.streamIndex) {
      result.frameCount++;
      result.videoBytes += packet->size;
      if (packet->pts != AV_NOPTS_VALUE) {
        if (maxPts != AV_NOPTS_VALUE && packet->pts < maxPts) reordered = true;
        if (maxPts == AV_NOPTS_VALUE || packet->pts > maxPts) maxPts = packet->pts;
      }
      // AVI leaves some pts unset (dts is there) and packet durations at 0 (a frame: 1/fps).
      const int64_t ts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      if (ts != AV_NOPTS_VALUE) {
        if (firstPts == AV_NOPTS_VALUE || ts < firstPts) firstPts = ts;
        const int64_t end = ts + (packet->duration > 0 ? packet->duration : frameTicks);
        if (lastEnd == AV_NOPTS_VALUE || end > lastEnd) lastEnd = end;
      }
    }
    av_packet_unref(packet.get());
  }
  result.hasBFrames = reordered || par->video_delay > 0;

  if (firstPts != AV_NOPTS_VALUE && lastEnd != AV_NOPTS_VALUE && lastEnd > firstPts) {
    result.duration = (lastEnd - firstPts) * av_q2d(stream->time_base);
  } else if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    result.duration = stream->duration * av_q2d(stream->time_base);
  } else if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
    result.duration = static_cast<double>(format->duration) / AV_TIME_BASE;
  }
  // Raw streams carry no timestamps: the frame rate is all there is.
  if (result.fps > 0 && (result.duration <= 0 || firstPts == AV_NOPTS_VALUE)) {
    result.duration = result.frameCount / result.fps;
  }
  if (result.duration > 0) result.bitrate = result.videoBytes * 8.0 / result.duration;
  return result;
}

}  // namespace mvclass
