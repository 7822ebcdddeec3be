#include "reader.h"

#include <cmath>

extern "C" {
#include <libavutil/motion_vector.h>
}

namespace mvclass {

void VectorColumns::Append(const AVMotionVector* mvs, size_t n, const int32_t* refPocs) {
  const size_t base = size();
  source.resize(base + n);
  w.resize(base + n);
  h.resize(base + n);
  srcX.resize(base + n);
  srcY.resize(base + n);
  dstX.resize(base + n);
  dstY.resize(base + n);
  flags.resize(base + n);
  motionX.resize(base + n);
  motionY.resize(base + n);
  scale.resize(base + n);
  if (hasRefPoc) refPoc.insert(refPoc.end(), refPocs, refPocs + n);
  for (size_t i = 0; i < n; i++) {
    const AVMotionVector& mv = mvs[i];
    const size_t j = base + i;
    source[j] = static_cast<int8_t>(mv.source);
    w[j] = mv.w;
    h[j] = mv.h;
    srcX[j] = mv.src_x;
    srcY[j] = mv.src_y;
    dstX[j] = mv.dst_x;
    dstY[j] = mv.dst_y;
    flags[j] = mv.flags;
    motionX[j] = mv.motion_x;
    motionY[j] = mv.motion_y;
    scale[j] = mv.motion_scale;
  }
}

namespace {
char PictureTypeChar(AVPictureType type) {
  switch (type) {
    case AV_PICTURE_TYPE_I:
    case AV_PICTURE_TYPE_SI:
      return 'I';
    case AV_PICTURE_TYPE_P:
    case AV_PICTURE_TYPE_SP:
    case AV_PICTURE_TYPE_S:  // MPEG-4 GMC sprite: predicted from the past like P
      return 'P';
    case AV_PICTURE_TYPE_B:
    case AV_PICTURE_TYPE_BI:
      return 'B';
    default:
      return '?';
  }
}
// The clip's frame size: the short side `shortSide`, the long side scaled by the same factor and
// rounded to the nearest even number (4:2:0 friendly, and what `ffmpeg -vf scale` users expect),
// at least 2. Landscape and square pictures keep height = shortSide.
void ClipSize(int width, int height, int shortSide, int& outWidth, int& outHeight) {
  const bool landscape = width >= height;
  const double longSide = landscape ? width : height, shortSrc = landscape ? height : width;
  int scaled = 2 * static_cast<int>(std::lround(longSide * shortSide / (2.0 * shortSrc)));
  if (scaled < 2) scaled = 2;
  outWidth = landscape ? scaled : shortSide;
  outHeight = landscape ? shortSide : scaled;
}
}  // namespace

MotionReader::MotionReader(const ReaderOptions& options) : options_(options) {
  ScopedLogSink sink(&log_);
  input_ = OpenVideoInput(options.path, options.requireVectors, options.inputOptions);
  AVStream* stream = input_.format->streams[input_.streamIndex];
  const bool wantVectors = options.vectors || options.gridBlock > 0;

  if (stream->codecpar->codec_id == AV_CODEC_ID_HEVC && wantVectors) {
    // FFmpeg's HEVC decoder exports no vectors: libde265 decodes, the walk in hevc.cc reads them.
    hevc_ = std::make_unique<HevcDecoder>(options.path, stream, options.keyFrames || options.WantsClip());
  } else {
    // One thread: files are decoded in parallel instead (one reader per libuv worker). The
    // deblocking filter only changes pixels; vectors are identical without it (tested).
    DecoderSettings settings;
    settings.exportVectors = wantVectors;
    settings.skipLoopFilter = !options.keyFrames && !options.WantsClip();
    codec_ = OpenDecoder(options.path, input_, settings);
  }

  frame_ = AllocFrame();
  packet_ = AllocPacket();
  histogram_.assign(static_cast<size_t>(2 * kHistRange + 1) * (2 * kHistRange + 1), 0);

  summary_.codec = avcodec_get_name(stream->codecpar->codec_id);
  summary_.width = stream->codecpar->width;
  summary_.height = stream->codecpar->height;
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  summary_.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
  timeBase_ = stream->time_base;
  startPts_ = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;

  if (options.gridBlock > 0) {
    // The displayed picture, not the coded size: avformat_find_stream_info copies the probing
    // decoder's width/height (after the SPS's cropping; MPEG-4's VOL size) into codecpar, so a
    // 384x296 MPEG-4 clip (coded 304) gets ceil(296 / 8) = 37 rows and 1080p H.264 (coded
    // 1088) 135, the README's [H/8, W/8] rounded up. Vectors of the partly visible last
    // macroblock row or column are clipped to the picture by GridAccumulator::Add.
    gridSpec_.width = summary_.width;
    gridSpec_.height = summary_.height;
    gridSpec_.block = options.gridBlock;
    gridSpec_.source = options.gridSource;
    gridSpec_.quarterPel = options.gridQuarterPel;
    gridSpec_.topLeft = hevc_ != nullptr;
  }
  if (options.keyFrames) {
    converter_ = std::make_unique<KeyFrameConverter>(options.keyWidth, options.keyHeight);
  }
  if (options.WantsClip()) {
    if ((!options.clipIndices.empty() && options.clipStride > 0) || options.clipStride < 0) {
      throw CodecError(options.path + ": a clip is given by its indices or by a stride, not both");
    }
    if (options.clipIndices.size() > kMaxClipFrames || options.clipShortSide < 2 ||
        options.clipShortSide > kMaxClipShortSide || options.clipShortSide % 2 != 0) {
      throw CodecError(options.path + ": a clip needs 1 to " + std::to_string(kMaxClipFrames) +
                       " frames and an even short side from 2 to " + std::to_string(kMaxClipShortSide));
    }
    if (summary_.width <= 0 || summary_.height <= 0) {
      throw CodecError(options.path + ": the stream declares no picture size, so no clip size");
    }
    int width = 0, height = 0;
    // The stream's declared size fixes the clip's: every frame of a clip has the same shape even
    // if the decoder changes size mid-stream.
    ClipSize(summary_.width, summary_.height, options.clipShortSide, width, height);
    // A sliver of a picture (16384x2) would otherwise ask for a long side of millions of pixels.
    if (width > kMaxClipLongSide || height > kMaxClipLongSide) {
      throw CodecError(options.path + ": a " + std::to_string(summary_.width) + "x" + std::to_string(summary_.height) +
                       " picture at short side " + std::to_string(options.clipShortSide) + " gives a clip side over " +
                       std::to_string(kMaxClipLongSide));
    }
    clipConverter_ = std::make_unique<KeyFrameConverter>(width, height);
  }
}

void MotionReader::SkipLoopFilterWhenDone() {
  // The loop filters change pixels only (vectors are the same without them): once no more
  // pixels are wanted the rest decodes as fast as a vectors-only pass.
  if (converter_ || clipConverter_) return;
  if (codec_) codec_->skip_loop_filter = AVDISCARD_ALL;
  if (hevc_) hevc_->SkipLoopFilters();
}

bool MotionReader::ClipWants(int64_t index) const {
  if (options_.clipStride > 0) return index % options_.clipStride == 0;
  return nextClip_ < options_.clipIndices.size() && options_.clipIndices[nextClip_] == index;
}

DecodedFrame MotionReader::FromFfmpeg() const {
  const AVFrame* frame = frame_.get();
  DecodedFrame decoded;
  decoded.type = PictureTypeChar(frame->pict_type);
  decoded.key = frame->key_frame != 0;
  decoded.bits = frame->pkt_size > 0 ? static_cast<int64_t>(frame->pkt_size) * 8 : 0;
  decoded.ts = frame->best_effort_timestamp;
  const AVFrameSideData* side = av_frame_get_side_data(frame, AV_FRAME_DATA_MOTION_VECTORS);
  decoded.vectors = side ? reinterpret_cast<const AVMotionVector*>(side->data) : nullptr;
  decoded.count = side ? side->size / sizeof(AVMotionVector) : 0;
  decoded.pixels = frame;
  return decoded;
}

void MotionReader::HandleFrame(const DecodedFrame& decoded, ReadBatch& batch) {
  FrameRecord record;
  record.index = framesOut_++;
  record.type = decoded.type;
  record.key = decoded.key;
  record.bits = decoded.bits;
  const int64_t ts = decoded.ts;
  if (ts != AV_NOPTS_VALUE) {
    record.pts = static_cast<double>(ts - startPts_) * av_q2d(timeBase_);
  } else {
    record.pts = summary_.fps > 0 ? record.index / summary_.fps : 0;
  }

  const AVMotionVector* mvs = decoded.vectors;
  const size_t count = decoded.count;

  record.vectorCount = static_cast<uint32_t>(count);
  if (options_.vectors) {
    record.vectorStart = static_cast<uint32_t>(batch.vectors.size());
    batch.vectors.Append(mvs, count, decoded.refPoc);
  }
  const int histSide = 2 * kHistRange + 1;
  for (size_t i = 0; i < count; i++) {
    const AVMotionVector& mv = mvs[i];
    if (mv.motion_scale == 0) continue;
    const double dx = double(mv.motion_x) / mv.motion_scale, dy = double(mv.motion_y) / mv.motion_scale;
    record.magnitude += std::sqrt(dx * dx + dy * dy);
    if (mv.source >= 0) continue;
    const long qx = std::lround(dx * 4), qy = std::lround(dy * 4);
    list0Count_++;
    if (qx >= -kHistRange && qx <= kHistRange && qy >= -kHistRange && qy <= kHistRange) {
      histogram_[(qy + kHistRange) * histSide + (qx + kHistRange)]++;
    }
  }

  if (options_.gridBlock > 0) {
    // The decoder may change size mid-stream; the grid keeps the stream's declared size.
    grid_.Reset(gridSpec_);
    for (size_t i = 0; i < count; i++) {
      const AVMotionVector& mv = mvs[i];
      grid_.Add(mv.source, mv.w, mv.h, mv.dst_x, mv.dst_y, mv.motion_x, mv.motion_y,
                mv.motion_scale);
    }
    const size_t cells = static_cast<size_t>(gridSpec_.cells());
    const size_t slot = batch.gridMask.size() / cells;
    batch.gridMask.resize((slot + 1) * cells);
    uint8_t* mask = batch.gridMask.data() + slot * cells;
    if (options_.gridQuarterPel) {
      batch.gridQuarterPels.resize((slot + 1) * 2 * cells);
      int16_t* base = batch.gridQuarterPels.data() + slot * 2 * cells;
      grid_.Finish(base, base + cells, mask);
    } else {
      batch.gridPixels.resize((slot + 1) * 2 * cells);
      float* base = batch.gridPixels.data() + slot * 2 * cells;
      grid_.Finish(base, base + cells, mask);
    }
  }

  if (converter_ && record.type == 'I') {
    KeyFrame key;
    key.index = record.index;
    key.pts = record.pts;
    key.type = record.type;
    try {
      key.image = converter_->Convert(decoded.pixels);
    } catch (const CodecError& e) {
      throw CodecError(options_.path + ": " + e.what());
    }
    record.keyFrame = static_cast<int32_t>(batch.keyFrames.size());
    batch.keyFrames.push_back(std::move(key));
    if (options_.firstKeyFrameOnly) {
      converter_.reset();
      SkipLoopFilterWhenDone();
    }
  }

  if (clipConverter_ && ClipWants(record.index)) {
    ClipFrame clip;
    clip.index = record.index;
    try {
      clip.image = clipConverter_->Convert(decoded.pixels);
    } catch (const CodecError& e) {
      throw CodecError(options_.path + ": " + e.what());
    }
    batch.clipFrames.push_back(std::move(clip));
    if (options_.clipStride == 0 && ++nextClip_ == options_.clipIndices.size()) {
      clipConverter_.reset();
      SkipLoopFilterWhenDone();
    }
  }
  batch.frames.push_back(record);
}

bool MotionReader::NextPacket(ReadBatch& batch) {
  for (;;) {
    int ret = av_read_frame(input_.format.get(), packet_.get());
    if (ret < 0) {
      if (ret != AVERROR_EOF) {
        batch.warnings.push_back(options_.path + ": reading stopped early: " + AvErrorText(ret));
      }
      return false;
    }
    if (packet_->stream_index == input_.streamIndex) return true;
    av_packet_unref(packet_.get());
  }
}

bool MotionReader::FeedDecoder(ReadBatch& batch) {
  if (flushed_) return false;
  if (!NextPacket(batch)) {
    // The end: drain what the decoder still holds.
    if (hevc_) hevc_->Send(nullptr);
    else avcodec_send_packet(codec_.get(), nullptr);
    flushed_ = true;
    return true;
  }
  if (hevc_) {
    hevc_->Send(packet_.get());
  } else if (int ret = avcodec_send_packet(codec_.get(), packet_.get()); ret < 0 && ret != AVERROR(EAGAIN)) {
    // A damaged packet: FFmpeg skips it and so do we, but the user hears about it.
    decodeErrors_++;
  }
  av_packet_unref(packet_.get());
  return true;
}

void MotionReader::ReadFfmpeg(size_t maxFrames, ReadBatch& batch) {
  while (batch.frames.size() < maxFrames) {
    int ret = avcodec_receive_frame(codec_.get(), frame_.get());
    if (ret == 0) {
      HandleFrame(FromFfmpeg(), batch);
      av_frame_unref(frame_.get());
      continue;
    }
    if (ret == AVERROR(EAGAIN)) {
      if (!FeedDecoder(batch)) {
        batch.done = true;
        break;
      }
      continue;
    }
    if (ret == AVERROR_EOF) {
      batch.done = true;
      break;
    }
    // A decode error: count it and move on through the file, so a damaged stream cannot spin.
    decodeErrors_++;
    if (!FeedDecoder(batch)) {
      batch.done = true;
      break;
    }
  }
}

void MotionReader::ReadHevc(size_t maxFrames, ReadBatch& batch) {
  DecodedFrame decoded;
  while (batch.frames.size() < maxFrames) {
    if (hevc_->Receive(decoded)) {
      HandleFrame(decoded, batch);
      continue;
    }
    if (!FeedDecoder(batch)) {
      batch.done = true;
      break;
    }
  }
  for (auto& line : hevc_->TakeWarnings()) log_.lines.push_back(line);
}

void MotionReader::Finish(ReadBatch& batch) {
  if (finished_) return;
  finished_ = true;
  if (hevc_) decodeErrors_ += hevc_->errors();
  AVStream* stream = input_.format->streams[input_.streamIndex];
  if (stream->nb_frames > 0 && framesOut_ < stream->nb_frames) {
    batch.warnings.push_back(options_.path + ": the file ends early: decoded " +
                             std::to_string(framesOut_) + " of the " +
                             std::to_string(stream->nb_frames) +
                             " frames its header declares (truncated?)");
  }
  const int side = 2 * kHistRange + 1;
  for (size_t i = 0; i < histogram_.size(); i++) {
    if (histogram_[i] > batch.dominantCount) {
      batch.hasDominant = true;
      batch.dominantCount = histogram_[i];
      batch.dominantX = static_cast<int>(i % side) - kHistRange;
      batch.dominantY = static_cast<int>(i / side) - kHistRange;
    }
  }
  batch.list0Count = list0Count_;
  if (decodeErrors_ > 0) {
    batch.warnings.push_back(options_.path + ": " + std::to_string(decodeErrors_) +
                             " packet(s) could not be decoded");
  }
}

void MotionReader::Read(size_t maxFrames, ReadBatch& batch) {
  ScopedLogSink sink(&log_);
  if (options_.gridBlock > 0) {
    batch.gridRows = gridSpec_.rows();
    batch.gridCols = gridSpec_.cols();
  }
  batch.vectors.hasRefPoc = hevc_ != nullptr;
  if (hevc_) ReadHevc(maxFrames, batch);
  else ReadFfmpeg(maxFrames, batch);
  if (batch.done) Finish(batch);
  for (auto& line : log_.lines) batch.warnings.push_back(options_.path + ": " + line);
  log_.lines.clear();
  if (log_.dropped > 0 && batch.done) {
    batch.warnings.push_back(options_.path + ": " + std::to_string(log_.dropped) +
                             " further decoder messages not shown");
  }
}

}  // namespace mvclass
