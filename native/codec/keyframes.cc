#include "keyframes.h"

#include <cmath>

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace mvclass {

RgbImage KeyFrameConverter::Convert(const AVFrame* frame) {
  RgbImage image;
  image.width = width_;
  image.height = height_;
  if (image.width <= 0 && image.height <= 0) {
    image.width = frame->width;
    image.height = frame->height;
  } else if (image.width <= 0) {
    image.width = static_cast<int>(std::lround(double(frame->width) * image.height / frame->height));
  } else if (image.height <= 0) {
    image.height = static_cast<int>(std::lround(double(frame->height) * image.width / frame->width));
  }
  if (image.width < 1) image.width = 1;
  if (image.height < 1) image.height = 1;

  // swscale asserts (aborting the process) on a format it has no descriptor for, such as the
  // AV_PIX_FMT_NONE of a libde265 picture at 9 bits: refuse those first (found by fuzzing).
  const AVPixelFormat format = static_cast<AVPixelFormat>(frame->format);
  if (frame->width <= 0 || frame->height <= 0 || format == AV_PIX_FMT_NONE || !sws_isSupportedInput(format)) {
    const char* name = format == AV_PIX_FMT_NONE ? nullptr : av_get_pix_fmt_name(format);
    throw CodecError(std::string("cannot convert a key frame of pixel format ") + (name ? name : "(none swscale reads)") + " to RGB");
  }
  // Bicubic, as FFmpeg's own scale filter defaults to, so a decode through ffmpeg matches.
  SwsContext* next = sws_getCachedContext(sws_, frame->width, frame->height,
                                          static_cast<AVPixelFormat>(frame->format), image.width,
                                          image.height, AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr,
                                          nullptr, nullptr);
  if (next != sws_) {
    owner_.release();  // sws_getCachedContext already freed the old context
    owner_.reset(next);
    sws_ = next;
  }
  if (sws_ == nullptr) {
    const char* name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(frame->format));
    throw CodecError(std::string("cannot convert pixel format ") + (name ? name : "unknown") +
                     " to RGB");
  }
  // Honour the stream's matrix and range, as FFmpeg's scale filter does with its "auto" setting.
  int colorspace = frame->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : frame->colorspace;
  const int* table = sws_getCoefficients(colorspace);
  int srcFull = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
  sws_setColorspaceDetails(sws_, table, srcFull, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0,
                           1 << 16, 1 << 16);

  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  uint8_t* dst[4] = {image.rgb.data(), nullptr, nullptr, nullptr};
  int dstStride[4] = {image.width * 3, 0, 0, 0};
  sws_scale(sws_, frame->data, frame->linesize, 0, frame->height, dst, dstStride);
  return image;
}

}  // namespace mvclass
