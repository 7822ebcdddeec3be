#include "quality.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common.h"

namespace mvclass {
namespace {

// One plane layout for both videos: YUV 4:2:0, chroma rounded up, planes packed without padding.
struct Layout {
  int w[3], h[3];
  size_t offset[3], bytes;
  explicit Layout(int width, int height) {
    w[0] = width;
    h[0] = height;
    w[1] = w[2] = (width + 1) / 2;
    h[1] = h[2] = (height + 1) / 2;
    offset[0] = 0;
    offset[1] = static_cast<size_t>(w[0]) * h[0];
    offset[2] = offset[1] + static_cast<size_t>(w[1]) * h[1];
    bytes = offset[2] + static_cast<size_t>(w[2]) * h[2];
  }
};

// A video decoded frame by frame in display order, each frame as YUV 4:2:0 at the layout's size.
class FrameSource {
 public:
  FrameSource(const std::string& path, const Layout& layout, int threads, LogSink& log, const PictureCrop& crop = {})
      : path_(path), layout_(layout), crop_(crop), log_(log) {
    ScopedLogSink sink(&log_);
    input_ = OpenVideoInput(path, false);
    DecoderSettings settings;
    settings.threads = threads;  // pixels only: frame threading is safe here
    decoder_ = OpenDecoder(path, input_, settings);
    frame_ = AllocFrame();
    packet_ = AllocPacket();
  }

  // The next frame into `out` (layout.bytes); false at the end of the stream.
  bool Next(std::vector<uint8_t>& out) {
    ScopedLogSink sink(&log_);
    for (;;) {
      int ret = avcodec_receive_frame(decoder_.get(), frame_.get());
      if (ret >= 0) {
        ApplyPictureCrop(frame_.get(), crop_, path_);
        Convert(frame_.get(), out);
        av_frame_unref(frame_.get());
        return true;
      }
      if (ret == AVERROR_EOF) return false;
      if (ret != AVERROR(EAGAIN)) ThrowAv(path_, "a frame could not be decoded", ret);
      if (flushed_) return false;
      Feed();
    }
  }

  const std::string& path() const { return path_; }

 private:
  // Sends the decoder the next packet of the video stream, or the flush at the end of the file.
  void Feed() {
    for (;;) {
      int ret = av_read_frame(input_.format.get(), packet_.get());
      if (ret < 0) {
        // The end, or a damaged tail: what was read is what there is.
        if (ret != AVERROR_EOF) log_.lines.push_back(std::string("reading stopped early: ") + AvErrorText(ret));
        avcodec_send_packet(decoder_.get(), nullptr);
        flushed_ = true;
        return;
      }
      if (packet_->stream_index != input_.streamIndex) {
        av_packet_unref(packet_.get());
        continue;
      }
      ret = avcodec_send_packet(decoder_.get(), packet_.get());
      av_packet_unref(packet_.get());
      if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA) ThrowAv(path_, "the decoder rejected a packet", ret);
      if (ret == AVERROR_INVALIDDATA) log_.lines.push_back("a damaged packet was skipped");
      return;
    }
  }

  void Convert(const AVFrame* f, std::vector<uint8_t>& out) {
    out.resize(layout_.bytes);
    const AVPixelFormat format = static_cast<AVPixelFormat>(f->format);
    if (f->width == layout_.w[0] && f->height == layout_.h[0] && format == AV_PIX_FMT_YUV420P) {
      for (int p = 0; p < 3; p++) {
        for (int y = 0; y < layout_.h[p]; y++) {
          std::copy_n(f->data[p] + static_cast<ptrdiff_t>(y) * f->linesize[p], layout_.w[p],
                      out.data() + layout_.offset[p] + static_cast<size_t>(y) * layout_.w[p]);
        }
      }
      return;
    }
    SwsContext* next = sws_getCachedContext(sws_, f->width, f->height, format, layout_.w[0], layout_.h[0],
                                            AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr);
    if (next != sws_) {
      swsOwner_.release();  // sws_getCachedContext freed the old one
      swsOwner_.reset(next);
      sws_ = next;
    }
    if (!sws_) throw CodecError(path_ + ": cannot convert its frames (" + std::to_string(f->width) + "x" +
                                std::to_string(f->height) + ") to " + std::to_string(layout_.w[0]) + "x" +
                                std::to_string(layout_.h[0]) + " YUV 4:2:0");
    uint8_t* dst[4] = {out.data(), out.data() + layout_.offset[1], out.data() + layout_.offset[2], nullptr};
    int stride[4] = {layout_.w[0], layout_.w[1], layout_.w[2], 0};
    sws_scale(sws_, f->data, f->linesize, 0, f->height, dst, stride);
  }

  std::string path_;
  Layout layout_;
  PictureCrop crop_;
  LogSink& log_;
  OpenedInput input_;
  CodecPtr decoder_;
  FramePtr frame_;
  PacketPtr packet_;
  SwsContext* sws_ = nullptr;
  SwsPtr swsOwner_;
  bool flushed_ = false;
};

// FFmpeg's SSIM window term: sums over an 8x8 window (64 pixels) of a, b, a^2 + b^2 and a*b,
// with its constants for 8-bit samples, evaluated in single precision as it does.
float WindowSsim(int64_t s1, int64_t s2, int64_t ss, int64_t s12) {
  constexpr int64_t c1 = static_cast<int64_t>(.01 * .01 * 255 * 255 * 64 + .5);
  constexpr int64_t c2 = static_cast<int64_t>(.03 * .03 * 255 * 255 * 64 * 63 + .5);
  const int64_t vars = ss * 64 - s1 * s1 - s2 * s2;
  const int64_t covar = s12 * 64 - s1 * s2;
  return static_cast<float>(2 * s1 * s2 + c1) * static_cast<float>(2 * covar + c2) /
         (static_cast<float>(s1 * s1 + s2 * s2 + c1) * static_cast<float>(vars + c2));
}

using BlockSums = std::array<int64_t, 4>;  // a, b, a^2 + b^2, a*b over a 4x4 block

// Sums of each 4x4 block of block row `row` (blocks that do not fit whole are left out).
void BlockRow(const uint8_t* a, const uint8_t* b, int stride, int row, int blocks, std::vector<BlockSums>& sums) {
  for (int bx = 0; bx < blocks; bx++) {
    BlockSums s = {0, 0, 0, 0};
    for (int y = 0; y < 4; y++) {
      const size_t at = static_cast<size_t>(row * 4 + y) * stride + bx * 4;
      for (int x = 0; x < 4; x++) {
        const int va = a[at + x], vb = b[at + x];
        s[0] += va;
        s[1] += vb;
        s[2] += va * va + vb * vb;
        s[3] += va * vb;
      }
    }
    sums[bx] = s;
  }
}

// Mean SSIM of one plane over 8x8 windows stepped by 4 (each window: 2x2 blocks of 4x4).
double PlaneSsim(const uint8_t* a, const uint8_t* b, int w, int h, std::vector<BlockSums>& upper,
                 std::vector<BlockSums>& lower) {
  const int bw = w / 4, bh = h / 4;
  upper.resize(bw);
  lower.resize(bw);
  BlockRow(a, b, w, 0, bw, lower);
  double total = 0;
  for (int row = 1; row < bh; row++) {
    upper.swap(lower);
    BlockRow(a, b, w, row, bw, lower);
    for (int x = 0; x + 1 < bw; x++) {
      BlockSums s;
      for (int k = 0; k < 4; k++) s[k] = upper[x][k] + upper[x + 1][k] + lower[x][k] + lower[x + 1][k];
      total += WindowSsim(s[0], s[1], s[2], s[3]);
    }
  }
  return total / (static_cast<double>(bh - 1) * (bw - 1));
}

double Psnr(double mse) {
  // FFmpeg's definition, peak 255; for MSE 0 it reports inf, and so does this.
  return mse > 0 ? 10.0 * std::log10(255.0 * 255.0 / mse) : std::numeric_limits<double>::infinity();
}

}  // namespace

QualityResult CompareVideos(const QualityOptions& options) {
  if (options.width < 16 || options.height < 16) {
    throw CodecError(options.distorted + ": cannot compare at " + std::to_string(options.width) + "x" +
                     std::to_string(options.height) + ": SSIM needs at least 16x16");
  }
  const Layout layout(options.width, options.height);
  LogSink referenceLog, distortedLog;
  FrameSource reference(options.reference, layout, options.decoderThreads, referenceLog, options.referenceCrop);
  FrameSource distorted(options.distorted, layout, options.decoderThreads, distortedLog);

  QualityResult r;
  r.width = options.width;
  r.height = options.height;
  // Plane sizes: the weights of the overall MSE and SSIM (applied as sum(value * pixels) / all
  // pixels, so that three planes of SSIM 1 make exactly 1).
  double planePixels[3];
  const double allPixels = static_cast<double>(layout.bytes);
  for (int p = 0; p < 3; p++) planePixels[p] = static_cast<double>(layout.w[p]) * layout.h[p];

  std::vector<uint8_t> a, b;
  std::vector<BlockSums> upper, lower;
  double sumAbs = 0, sumMse[3] = {0, 0, 0}, sumMseAverage = 0, sumSsim[3] = {0, 0, 0}, sumSsimAll = 0;
  bool moreA = true, moreB = true;
  for (;;) {
    if (moreA) moreA = reference.Next(a);
    if (moreB) moreB = distorted.Next(b);
    r.referenceFrames += moreA;
    r.distortedFrames += moreB;
    if (!moreA && !moreB) break;
    if (!moreA || !moreB) continue;  // counting the longer one's remaining frames

    double mse[3], frameMse = 0, ssimAll = 0;
    uint64_t frameAbs = 0;
    for (int p = 0; p < 3; p++) {
      const uint8_t* pa = a.data() + layout.offset[p];
      const uint8_t* pb = b.data() + layout.offset[p];
      const size_t n = static_cast<size_t>(layout.w[p]) * layout.h[p];
      uint64_t squares = 0;
      for (size_t i = 0; i < n; i++) {
        const int d = static_cast<int>(pa[i]) - static_cast<int>(pb[i]);
        squares += static_cast<uint64_t>(d * d);
        if (p == 0) frameAbs += static_cast<uint64_t>(std::abs(d));
      }
      mse[p] = static_cast<double>(squares) / static_cast<double>(n);
      frameMse += mse[p] * planePixels[p];
      const double s = PlaneSsim(pa, pb, layout.w[p], layout.h[p], upper, lower);
      ssimAll += s * planePixels[p];
      sumMse[p] += mse[p];
      sumSsim[p] += s;
    }
    frameMse /= allPixels;
    ssimAll /= allPixels;
    const double mae = static_cast<double>(frameAbs) / (static_cast<double>(layout.w[0]) * layout.h[0]);
    sumAbs += mae;
    sumMseAverage += frameMse;
    sumSsimAll += ssimAll;
    r.frameMae.push_back(mae);
    r.frameRmse.push_back(std::sqrt(mse[0]));
    r.framePsnr.push_back(Psnr(frameMse));
    r.frameSsim.push_back(ssimAll);
    r.frames++;
  }
  if (r.referenceFrames == 0) throw CodecError(options.reference + ": no video frame could be decoded");
  if (r.distortedFrames == 0) throw CodecError(options.distorted + ": no video frame could be decoded");

  const double n = static_cast<double>(r.frames);
  r.mae = sumAbs / n;
  for (int p = 0; p < 3; p++) {
    r.mse[p] = sumMse[p] / n;
    r.psnr[p] = Psnr(r.mse[p]);
    r.ssim[p] = sumSsim[p] / n;
  }
  r.rmse = std::sqrt(r.mse[0]);
  r.mseAverage = sumMseAverage / n;
  r.psnrAverage = Psnr(r.mseAverage);
  r.ssimAll = sumSsimAll / n;
  for (const std::string& line : referenceLog.lines) r.warnings.push_back(options.reference + ": " + line);
  for (const std::string& line : distortedLog.lines) r.warnings.push_back(options.distorted + ": " + line);
  return r;
}

}  // namespace mvclass
