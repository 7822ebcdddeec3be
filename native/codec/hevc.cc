#include "hevc.h"

#include <cstring>

extern "C" {
#include <libavcodec/bsf.h>
}

#ifdef MVCLASS_WITH_DE265
#include "../de265/layout.h"
#include "libde265/de265.h"
#include "libde265/image.h"

extern "C" const char* mvclass_de265_layout();  // compiled into our libde265 build
#endif

namespace mvclass {

#ifndef MVCLASS_WITH_DE265

bool HevcAvailable() { return false; }
std::string HevcLayoutMismatch() {
  return "HEVC needs libde265, and this build of mvclass has none: run scripts/setup.sh (it builds "
         "libde265 into build-de265/, then the addon against it)";
}
void De265Freer::operator()(void*) const {}
HevcDecoder::HevcDecoder(const std::string& path, const AVStream*, bool) : path_(path) {
  throw CodecError(path + ": " + HevcLayoutMismatch());
}
void HevcDecoder::Send(AVPacket*) {}
bool HevcDecoder::Receive(DecodedFrame&) { return false; }
void HevcDecoder::SkipLoopFilters() {}
std::vector<std::string> HevcDecoder::TakeWarnings() { return {}; }

#else

bool HevcAvailable() { return HevcLayoutMismatch().empty(); }

std::string HevcLayoutMismatch() {
  static const std::string mismatch = [] {
    const std::string headers = mvclass_de265::Layout();
    const std::string library = mvclass_de265_layout();
    if (headers == library) return std::string();
    return "libde265 " + std::string(de265_get_version()) +
           " does not match the headers mvclass was compiled with (headers: " + headers +
           " library: " + library + "); rebuild with scripts/build-de265.sh and node-gyp";
  }();
  return mismatch;
}

namespace {
// The pixel format of a libde265 picture, or AV_PIX_FMT_NONE for one swscale is not given
// (9 or 12 bits, or chroma at another depth than luma: a key frame of it is refused).
AVPixelFormat PixelFormatOf(const de265_image* image) {
  const int depth = de265_get_bits_per_pixel(image, 0);
  if (de265_get_chroma_format(image) != de265_chroma_mono && de265_get_bits_per_pixel(image, 1) != depth) return AV_PIX_FMT_NONE;
  switch (de265_get_chroma_format(image)) {
    case de265_chroma_mono:
      return depth == 8 ? AV_PIX_FMT_GRAY8 : depth == 10 ? AV_PIX_FMT_GRAY10LE : AV_PIX_FMT_NONE;
    case de265_chroma_420:
      return depth == 8 ? AV_PIX_FMT_YUV420P : depth == 10 ? AV_PIX_FMT_YUV420P10LE : AV_PIX_FMT_NONE;
    case de265_chroma_422:
      return depth == 8 ? AV_PIX_FMT_YUV422P : depth == 10 ? AV_PIX_FMT_YUV422P10LE : AV_PIX_FMT_NONE;
    case de265_chroma_444:
      return depth == 8 ? AV_PIX_FMT_YUV444P : depth == 10 ? AV_PIX_FMT_YUV444P10LE : AV_PIX_FMT_NONE;
  }
  return AV_PIX_FMT_NONE;
}

// IRAP pictures (BLA, IDR, CRA: NAL unit types 16 to 23) start a decodable sequence.
bool IsIrap(const de265_image* image) {
  int type = 0, layer = 0, temporal = 0;
  const char* name = nullptr;
  de265_get_image_NAL_header(image, &type, &name, &layer, &temporal);
  return type >= 16 && type <= 23;
}
}  // namespace

HevcDecoder::HevcDecoder(const std::string& path, const AVStream* stream, bool pixels)
    : path_(path) {
  const std::string mismatch = HevcLayoutMismatch();
  if (!mismatch.empty()) throw CodecError(path + ": " + mismatch);
  // The owned packet and frame first: if they throw, nothing else is allocated yet.
  filtered_ = AllocPacket();
  view_ = AllocFrame();
  ctx_.reset(de265_new_decoder());
  if (ctx_ == nullptr) throw CodecError(path + ": out of memory creating the HEVC decoder");
  // With the loop filters off the decoded pixels differ from the encoder's, so the SEI picture
  // hashes would fail; vectors do not depend on pixels.
  de265_set_parameter_bool(ctx_.get(), DE265_DECODER_PARAM_BOOL_SEI_CHECK_HASH, 0);
  if (!pixels) SkipLoopFilters();

  const AVBitStreamFilter* filter = av_bsf_get_by_name("hevc_mp4toannexb");
  AVBSFContext* bsf = nullptr;
  int ret = filter ? av_bsf_alloc(filter, &bsf) : AVERROR_BSF_NOT_FOUND;
  bsf_.reset(bsf);
  if (ret >= 0) ret = avcodec_parameters_copy(bsf_->par_in, stream->codecpar);
  if (ret >= 0) {
    bsf_->time_base_in = stream->time_base;
    ret = av_bsf_init(bsf_.get());
  }
  if (ret < 0) ThrowAv(path, "cannot set up the HEVC bitstream filter", ret);
}

void De265Freer::operator()(void* ctx) const { de265_free_decoder(ctx); }

void HevcDecoder::SkipLoopFilters() {
  de265_set_parameter_bool(ctx_.get(), DE265_DECODER_PARAM_DISABLE_DEBLOCKING, 1);
  de265_set_parameter_bool(ctx_.get(), DE265_DECODER_PARAM_DISABLE_SAO, 1);
}

// A VPS/SPS/PPS equal to the last one of its kind is left out. MP4 demuxing re-inserts the
// parameter sets before every IRAP picture, and libde265 (with Debian's "recycle SPS" patch)
// compares a repeated SPS field by field, uninitialised fields included: an SPS judged new makes
// the leading pictures' references invalid. A byte-identical repeat changes nothing.
bool HevcDecoder::RepeatedParameterSet(const uint8_t* nal, size_t size) {
  const int type = (nal[0] >> 1) & 0x3f;
  if (type < 32 || type > 34) return false;
  std::string& last = lastParameterSet_[type - 32];
  std::string bytes(reinterpret_cast<const char*>(nal), size);
  if (bytes == last) return true;
  last = std::move(bytes);
  return false;
}

void HevcDecoder::PushNals(const uint8_t* data, size_t size, int64_t serial) {
  // Annex-B: NAL units follow 00 00 01 start codes; trailing zero bytes belong to no NAL.
  auto startCode = [&](size_t from) {
    for (size_t i = from; i + 2 < size; i++) {
      if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) return i;
    }
    return size;
  };
  size_t at = startCode(0);
  while (at < size) {
    const size_t begin = at + 3;
    const size_t next = startCode(begin);
    size_t end = next;
    while (end > begin && data[end - 1] == 0) end--;
    if (end > begin && !RepeatedParameterSet(data + begin, end - begin)) {
      de265_error err = de265_push_NAL(ctx_.get(), data + begin, static_cast<int>(end - begin), serial,
                                       reinterpret_cast<void*>(static_cast<intptr_t>(serial + 1)));
      if (err != DE265_OK) throw CodecError(path_ + ": " + de265_get_error_text(err));
    }
    at = next;
  }
}

void HevcDecoder::Send(AVPacket* packet) {
  if (flushed_) return;
  int ret;
  int64_t serial = static_cast<int64_t>(packets_.size());
  if (packet != nullptr) {
    packets_.push_back({packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts, packet->size});
    ret = av_bsf_send_packet(bsf_.get(), packet);  // takes the reference on success
  } else {
    ret = av_bsf_send_packet(bsf_.get(), nullptr);
    flushed_ = true;
    serial = -1;
  }
  if (ret < 0) {
    errors_++;
    warnings_.push_back("a packet the HEVC bitstream filter refused: " + AvErrorText(ret));
  }
  while ((ret = av_bsf_receive_packet(bsf_.get(), filtered_.get())) >= 0) {
    // A packet still inside the filter at the flush keeps its own serial.
    const int64_t owner = serial >= 0 ? serial : static_cast<int64_t>(packets_.size()) - 1;
    PushNals(filtered_->data, static_cast<size_t>(filtered_->size), owner);
    av_packet_unref(filtered_.get());
  }
  if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF) {
    errors_++;
    warnings_.push_back("the HEVC bitstream filter failed: " + AvErrorText(ret));
  }
  if (flushed_) de265_flush_data(ctx_.get());
}

void HevcDecoder::CollectWarnings() {
  for (;;) {
    de265_error warning = de265_get_warning(ctx_.get());
    if (warning == DE265_OK) break;
    if (warnings_.size() < 64) warnings_.push_back(std::string("hevc: ") + de265_get_error_text(warning));
  }
}

std::vector<std::string> HevcDecoder::TakeWarnings() {
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

bool HevcDecoder::Receive(DecodedFrame& frame) {
  if (!released_) {
    de265_release_next_picture(ctx_.get());
    released_ = true;
  }
  int idle = 0;
  for (;;) {
    // Peek now, release on the next call: the picture stays ours while its vectors are read.
    const de265_image* image = de265_peek_next_picture(ctx_.get());
    if (image != nullptr) {
      released_ = false;
      frame = DecodedFrame();
      frame.key = IsIrap(image);
      // The picture's type is its most predicted slice: any B slice makes it B, else any P.
      int lowest = 2;
      for (const slice_segment_header* slice : image->slices) {
        if (slice != nullptr && slice->slice_type < lowest) lowest = slice->slice_type;
      }
      frame.type = image->slices.empty() ? '?' : lowest == 0 ? 'B' : lowest == 1 ? 'P' : 'I';
      const intptr_t serial = reinterpret_cast<intptr_t>(de265_get_image_user_data(image)) - 1;
      if (serial >= 0 && static_cast<size_t>(serial) < packets_.size()) {
        frame.ts = packets_[serial].pts;
        frame.bits = packets_[serial].bytes * 8;
      }
      vectors_.clear();
      refPoc_.clear();
      if (frame.type != 'I') WalkPredictionBlocks(image);
      frame.vectors = vectors_.data();
      frame.count = vectors_.size();
      frame.refPoc = refPoc_.data();

      AVFrame* view = view_.get();
      view->format = PixelFormatOf(image);
      view->width = de265_get_image_width(image, 0);
      view->height = de265_get_image_height(image, 0);
      const int planes = de265_get_chroma_format(image) == de265_chroma_mono ? 1 : 3;
      for (int c = 0; c < 4; c++) {
        int stride = 0;
        view->data[c] = c < planes ? const_cast<uint8_t*>(de265_get_image_plane(image, c, &stride)) : nullptr;
        view->linesize[c] = c < planes ? stride : 0;
      }
      view->color_range = de265_get_image_full_range_flag(image) ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
      view->colorspace = static_cast<AVColorSpace>(de265_get_image_matrix_coefficients(image));
      frame.pixels = view;
      return true;
    }
    int more = 0;
    const de265_error err = de265_decode(ctx_.get(), &more);
    CollectWarnings();
    if (err == DE265_ERROR_WAITING_FOR_INPUT_DATA) return false;
    if (err == DE265_ERROR_IMAGE_BUFFER_FULL) {
      // Nothing to output and no room to decode into: only a broken stream gets here.
      throw CodecError(path_ + ": the HEVC decoder stalled with a full picture buffer (damaged stream?)");
    }
    if (err != DE265_OK) {
      errors_++;
      if (warnings_.size() < 64) warnings_.push_back(std::string("hevc: ") + de265_get_error_text(err));
    }
    // At the end, one call finishes the last picture with more == 0 and the next flushes the
    // reorder buffer: only a few idle calls in a row mean there is nothing left.
    if (more || de265_peek_next_picture(ctx_.get()) != nullptr) {
      idle = 0;
    } else if (++idle > 3) {
      return false;
    }
  }
}

// The coding quadtree of each CTB down to its coding units, then each inter CU's prediction
// blocks as H.265 section 7.3.8.5 lays them out for its part_mode. libde265 records one
// PBMotion per 4x4 block; the block at a prediction block's top-left holds that block's motion.
void HevcDecoder::WalkPredictionBlocks(const de265_image* image) {
  const seq_parameter_set& sps = image->get_sps();
  const int width = sps.pic_width_in_luma_samples, height = sps.pic_height_in_luma_samples;
  const int ctb = 1 << sps.Log2CtbSizeY;

  auto emit = [&](int x, int y, int w, int h) {
    if (x >= width || y >= height) return;
    const PBMotion& motion = image->get_mv_info(x, y);
    const int index = image->get_SliceHeaderIndex(x, y);
    const slice_segment_header* slice =
        index >= 0 && static_cast<size_t>(index) < image->slices.size() ? image->slices[index] : nullptr;
    for (int list = 0; list < 2; list++) {
      if (!motion.predFlag[list]) continue;
      AVMotionVector mv;
      std::memset(&mv, 0, sizeof(mv));
      mv.source = list == 0 ? -1 : 1;
      mv.w = static_cast<uint8_t>(w);
      mv.h = static_cast<uint8_t>(h);
      mv.dst_x = static_cast<int16_t>(x + w / 2);
      mv.dst_y = static_cast<int16_t>(y + h / 2);
      mv.motion_x = motion.mv[list].x;
      mv.motion_y = motion.mv[list].y;
      mv.motion_scale = 4;
      // As FFmpeg computes src for H.264: dst plus the vector, truncated to whole pixels.
      mv.src_x = static_cast<int16_t>(mv.dst_x + mv.motion_x / mv.motion_scale);
      mv.src_y = static_cast<int16_t>(mv.dst_y + mv.motion_y / mv.motion_scale);
      vectors_.push_back(mv);
      const int ref = motion.refIdx[list];
      refPoc_.push_back(slice != nullptr && ref >= 0 && ref < MAX_NUM_REF_PICS
                                   ? slice->RefPicList_POC[list][ref]
                                   : INT32_MIN);
    }
  };

  auto codingUnit = [&](int x, int y, int size) {
    if (image->get_pred_mode(x, y) == MODE_INTRA) return;  // no motion, as FFmpeg leaves intra out
    const int half = size / 2, quarter = size / 4;
    switch (image->get_PartMode(x, y)) {
      case PART_2Nx2N:
        emit(x, y, size, size);
        break;
      case PART_2NxN:
        emit(x, y, size, half);
        emit(x, y + half, size, half);
        break;
      case PART_Nx2N:
        emit(x, y, half, size);
        emit(x + half, y, half, size);
        break;
      case PART_NxN:
        emit(x, y, half, half);
        emit(x + half, y, half, half);
        emit(x, y + half, half, half);
        emit(x + half, y + half, half, half);
        break;
      case PART_2NxnU:
        emit(x, y, size, quarter);
        emit(x, y + quarter, size, size - quarter);
        break;
      case PART_2NxnD:
        emit(x, y, size, size - quarter);
        emit(x, y + size - quarter, size, quarter);
        break;
      case PART_nLx2N:
        emit(x, y, quarter, size);
        emit(x + quarter, y, size - quarter, size);
        break;
      case PART_nRx2N:
        emit(x, y, size - quarter, size);
        emit(x + size - quarter, y, quarter, size);
        break;
    }
  };

  // A block whose top-left CU is as large as the block is that CU; otherwise it was split.
  const int minCb = 1 << sps.Log2MinCbSizeY;
  auto quadtree = [&](auto&& self, int x, int y, int size) -> void {
    if (x >= width || y >= height) return;
    if (size <= minCb || image->get_log2CbSize(x, y) == __builtin_ctz(size)) {
      codingUnit(x, y, size);
      return;
    }
    const int half = size / 2;
    self(self, x, y, half);
    self(self, x + half, y, half);
    self(self, x, y + half, half);
    self(self, x + half, y + half, half);
  };
  for (int y = 0; y < height; y += ctb) {
    for (int x = 0; x < width; x += ctb) quadtree(quadtree, x, y, ctb);
  }
}

#endif

}  // namespace mvclass
