#include "keyframes.h"

#include <cmath>

extern "C" {
#include <libavutil/imgutils.h>
#include <libavutil/macros.h>
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

  // swscale's SIMD converters write past the end of a row: into packed rows of a width that is
  // 8 more than a multiple of 16 (344, 360, 376; not 352 or 368) the last row overran the
  // buffer and corrupted the heap (malloc aborted the process). FFmpeg's own frames leave that
  // room (av_frame_get_buffer pads every row), so convert into rows padded the same way, then
  // pack them.
  const int rowBytes = image.width * 3;
  const int stride = FFALIGN(image.width, 64) * 3;
  scratch_.resize(static_cast<size_t>(stride) * image.height + 64);
  uint8_t* dst[4] = {scratch_.data(), nullptr, nullptr, nullptr};
  int dstStride[4] = {stride, 0, 0, 0};
  sws_scale(sws_, frame->data, frame->linesize, 0, frame->height, dst, dstStride);
  image.rgb.resize(static_cast<size_t>(rowBytes) * image.height);
  av_image_copy_plane(image.rgb.data(), rowBytes, scratch_.data(), stride, rowBytes, image.height);
  return image;
}

}  // namespace mvclass
