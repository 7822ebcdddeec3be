#include "crop.h"

#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "common.h"
#include "h264/bits.h"
#include "h264/pslice.h"
#include "h264/syntax.h"

namespace mvclass {

using namespace h264;

namespace {

using Nal = std::vector<uint8_t>;  // one NAL unit, header byte first, escaped payload

// The parameter sets in force after some point of the stream. Each access unit keeps the state
// its own NAL units left, because the decoder hands its picture back later, after newer packets
// (and maybe a new SPS with the same id) have been read.
struct ParameterSets {
  std::map<int, Sps> sps;
  std::map<int, Pps> pps;
};

struct AccessUnit {
  std::vector<Nal> nals;
  std::shared_ptr<const ParameterSets> params;
  int64_t pts = AV_NOPTS_VALUE, dts = AV_NOPTS_VALUE, duration = 0;
  bool key = false;
};

// Splits Annex-B bytes (00 00 01 / 00 00 00 01 start codes) into NAL units.
void SplitAnnexB(const uint8_t* data, size_t size, std::vector<Nal>& out) {
  size_t i = 0, start = SIZE_MAX;
  while (i + 2 < size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != SIZE_MAX) {
        size_t end = i;
        while (end > start && data[end - 1] == 0) end--;  // trailing_zero_8bits / 4-byte codes
        out.emplace_back(data + start, data + end);
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start != SIZE_MAX && start < size) out.emplace_back(data + start, data + size);
}

void SplitLengthPrefixed(const uint8_t* data, size_t size, int lengthSize, std::vector<Nal>& out,
                         const std::string& path) {
  size_t i = 0;
  while (i + lengthSize <= size) {
    size_t n = 0;
    for (int k = 0; k < lengthSize; k++) n = (n << 8) | data[i + k];
    i += lengthSize;
    if (n > size - i) throw CodecError(path + ": a NAL unit runs past the end of its packet (damaged file?)");
    out.emplace_back(data + i, data + i + n);
    i += n;
  }
}

class Cropper {
 public:
  explicit Cropper(const CropOptions& options) : options_(options) {}
  CropResult Run();

 private:
  void ReadExtradata(const AVCodecParameters* par);
  void LearnParameterSets(const std::vector<Nal>& nals);
  AccessUnit Rewrite(const AccessUnit& au, const AVFrame* frame);
  std::vector<MbMotion> MotionOf(const AVFrame* frame, const Sps& sps);
  void Emit(const AccessUnit& au);
  void OpenOutput(const AVStream* in);
  // The id of the CAVLC twin of input PPS `inputId`: the highest id the input does not use (so
  // that cropping an already cropped stream works too), fixed at first use.
  int CavlcPpsId(int inputId) {
    auto known = twinIds_.find(inputId);
    if (known != twinIds_.end()) return known->second;
    for (int id = 255; id >= 0; id--) {
      bool taken = inputPpsIds_.count(id) != 0;
      for (const auto& t : twinIds_) taken = taken || t.second == id;
      if (!taken) return twinIds_[inputId] = id;
    }
    throw CodecError(options_.input + ": no free picture parameter set id for the CAVLC twin");
  }
  // The CAVLC PPS that accompanies an input PPS NAL unit (already parsed into `params`).
  Nal CavlcTwin(const Nal& ppsNal, const ParameterSets& params) {
    const std::vector<uint8_t> rbsp = Unescape(ppsNal.data() + 1, ppsNal.size() - 1);
    const Pps parsed = ParsePps(rbsp, params.sps);
    auto pps = params.pps.find(parsed.id);
    if (pps == params.pps.end()) throw CodecError(Where() + ": a picture parameter set was not learnt before use");
    Nal twin{ppsNal[0]};
    Escape(WriteCavlcPps(pps->second, CavlcPpsId(parsed.id)), twin);
    return twin;
  }
  std::string Where() const { return options_.input + ": frame " + std::to_string(result_.frames); }

  CropOptions options_;
  CropResult result_;
  int lengthSize_ = 0;  // 0: Annex-B input
  std::shared_ptr<const ParameterSets> params_ = std::make_shared<ParameterSets>();
  std::set<int> inputPpsIds_;
  std::map<int, int> twinIds_;  // input PPS id -> its CAVLC twin's id
  std::vector<Nal> extraNals_;
  // Output
  AVFormatContext* muxer_ = nullptr;
  AVStream* outStream_ = nullptr;
  FILE* raw_ = nullptr;
  AVRational timeBase_{1, 25};
  double fps_ = 25;
};

void Cropper::LearnParameterSets(const std::vector<Nal>& nals) {
  std::shared_ptr<ParameterSets> next;  // copied on the first parameter set, so most units share
  for (const Nal& nal : nals) {
    if (nal.empty()) continue;
    const int type = nal[0] & 0x1f;
    if (type != kNalSps && type != kNalPps) continue;
    if (!next) next = std::make_shared<ParameterSets>(*params_);
    std::vector<uint8_t> rbsp = Unescape(nal.data() + 1, nal.size() - 1);
    if (type == kNalSps) {
      Sps s = ParseSps(rbsp);
      if (!s.frameMbsOnly) throw CodecError(options_.input + ": interlaced H.264 is not supported by crop");
      if (s.chromaFormat != 1) throw CodecError(options_.input + ": crop needs 4:2:0 video");
      next->sps[s.id] = s;
    } else {
      Pps p = ParsePps(rbsp, next->sps);
      next->pps[p.id] = p;
      inputPpsIds_.insert(p.id);
      for (const auto& t : twinIds_) {
        if (t.second == p.id) throw CodecError(options_.input + ": a picture parameter set arrives with the id crop gave a CAVLC twin");
      }
    }
  }
  if (next) params_ = std::move(next);
}

void Cropper::ReadExtradata(const AVCodecParameters* par) {
  const uint8_t* d = par->extradata;
  const int n = par->extradata_size;
  if (n <= 0) return;
  if (d[0] == 1) {  // avcC (ISO/IEC 14496-15)
    if (n < 7) throw CodecError(options_.input + ": truncated avcC header");
    lengthSize_ = (d[4] & 3) + 1;
    if (lengthSize_ == 3) throw CodecError(options_.input + ": avcC header with a NAL length size of 3 bytes (only 1, 2 or 4 exist)");
    int i = 5;
    for (int list = 0; list < 2; list++) {
      if (i >= n) throw CodecError(options_.input + ": truncated avcC header");
      int count = list == 0 ? (d[i] & 0x1f) : d[i];
      i++;
      for (int k = 0; k < count; k++) {
        if (i + 2 > n) throw CodecError(options_.input + ": truncated avcC header");
        const int len = (d[i] << 8) | d[i + 1];
        i += 2;
        if (i + len > n) throw CodecError(options_.input + ": truncated avcC header");
        extraNals_.emplace_back(d + i, d + i + len);
        i += len;
      }
    }
  } else {
    SplitAnnexB(d, static_cast<size_t>(n), extraNals_);
  }
  LearnParameterSets(extraNals_);
}

std::vector<MbMotion> Cropper::MotionOf(const AVFrame* frame, const Sps& sps) {
  std::vector<MbMotion> mbs(static_cast<size_t>(sps.widthMbs) * sps.heightMbs);
  std::vector<uint8_t> seen(mbs.size(), 0);
  const AVFrameSideData* side = av_frame_get_side_data(frame, AV_FRAME_DATA_MOTION_VECTORS);
  if (!side) return mbs;  // no inter block at all: every MB intra
  const auto* mvs = reinterpret_cast<const AVMotionVector*>(side->data);
  const size_t count = side->size / sizeof(AVMotionVector);
  for (size_t i = 0; i < count; i++) {
    const AVMotionVector& mv = mvs[i];
    if (mv.source != -1) throw CodecError(Where() + ": B-frames cannot be cropped; re-encode with mvclass encode --bframes 0");
    const int x0 = mv.dst_x - mv.w / 2, y0 = mv.dst_y - mv.h / 2;
    const int mbx = x0 / 16, mby = y0 / 16;
    if (mbx < 0 || mby < 0 || mbx >= sps.widthMbs || mby >= sps.heightMbs) continue;
    MbMotion& mb = mbs[static_cast<size_t>(mby) * sps.widthMbs + mbx];
    MbKind kind;
    int part;
    if (mv.w == 16 && mv.h == 16) {
      kind = MbKind::k16x16;
      part = 0;
    } else if (mv.w == 16 && mv.h == 8) {
      kind = MbKind::k16x8;
      part = (y0 % 16) / 8;
    } else if (mv.w == 8 && mv.h == 16) {
      kind = MbKind::k8x16;
      part = (x0 % 16) / 8;
    } else if (mv.w == 8 && mv.h == 8) {
      kind = MbKind::k8x8;
      part = ((y0 % 16) / 8) * 2 + (x0 % 16) / 8;
    } else {
      throw CodecError(Where() + ": unexpected partition " + std::to_string(mv.w) + "x" + std::to_string(mv.h));
    }
    const size_t index = static_cast<size_t>(mby) * sps.widthMbs + mbx;
    if (seen[index] && mb.kind != kind) throw CodecError(Where() + ": inconsistent partitions in one macroblock");
    seen[index] = 1;
    mb.kind = kind;
    if (mv.motion_scale != 4) throw CodecError(Where() + ": vectors are not in quarter pixels");
    mb.mv[part][0] = static_cast<int16_t>(mv.motion_x);
    mb.mv[part][1] = static_cast<int16_t>(mv.motion_y);
  }
  return mbs;
}

AccessUnit Cropper::Rewrite(const AccessUnit& au, const AVFrame* frame) {
  const ParameterSets& params = *au.params;
  // Slices of the picture, to know where each one ends.
  struct Slice {
    size_t nal;
    SliceHeader header;
    int refIdc;
  };
  std::vector<Slice> slices;
  bool anyP = false;
  for (size_t i = 0; i < au.nals.size(); i++) {
    const Nal& nal = au.nals[i];
    if (nal.empty()) continue;
    const int type = nal[0] & 0x1f;
    if (type >= 2 && type <= 4) throw CodecError(Where() + ": data partitioning is not supported");
    if (type != kNalSlice) continue;
    std::vector<uint8_t> rbsp = Unescape(nal.data() + 1, nal.size() - 1);
    BitReader r(rbsp);
    Slice s{i, ParseSliceHeader(r, (nal[0] >> 5) & 3, params.sps, params.pps), (nal[0] >> 5) & 3};
    const int kind = s.header.kind();
    if (kind == 1) throw CodecError(Where() + ": B-frames cannot be cropped; re-encode with mvclass encode --bframes 0");
    if (kind == 3 || kind == 4) throw CodecError(Where() + ": SP/SI slices are not supported");
    if (s.header.redundantPicCnt > 0) throw CodecError(Where() + ": redundant pictures are not supported");
    // The slices of one picture share its SPS and come in order (7.4.3, with arbitrary slice
    // order excluded): each one's first macroblock ends the slice before it.
    if (!slices.empty()) {
      const Slice& previous = slices.back();
      if (params.pps.at(previous.header.ppsId).spsId != params.pps.at(s.header.ppsId).spsId) {
        throw CodecError(Where() + ": the slices of one picture refer to different sequence parameter sets");
      }
      if (s.header.firstMb <= previous.header.firstMb) {
        throw CodecError(Where() + ": slice starting at macroblock " + std::to_string(s.header.firstMb) +
                         " follows one starting at " + std::to_string(previous.header.firstMb) +
                         " (slices out of order or repeated are not supported)");
      }
    }
    anyP = anyP || kind == 0;
    slices.push_back(std::move(s));
  }
  if (!anyP) {
    result_.copiedFrames++;
    result_.frameKinds += 'C';
    return au;  // IDR and intra pictures keep their texture, bit for bit
  }
  if (!frame) throw CodecError(Where() + ": the decoder gave no picture for this access unit");
  const Sps& sps = params.sps.at(params.pps.at(slices.front().header.ppsId).spsId);
  // The decoder's picture must be the one this SPS describes, or its vectors land elsewhere.
  // (Only "not larger" can be checked: the SPS's cropping window, not parsed here, may make it
  // smaller.)
  if (frame->width > sps.widthMbs * 16 || frame->height > sps.heightMbs * 16) {
    throw CodecError(Where() + ": the decoder's picture (" + std::to_string(frame->width) + "x" + std::to_string(frame->height) +
                     ") is not the one the sequence parameter set describes (" + std::to_string(sps.widthMbs) + "x" +
                     std::to_string(sps.heightMbs) + " macroblocks)");
  }
  std::vector<MbMotion> mbs = MotionOf(frame, sps);
  MotionField field(sps.widthMbs, sps.heightMbs);

  AccessUnit out;
  out.pts = au.pts;
  out.dts = au.dts;
  out.duration = au.duration;
  out.key = au.key;
  size_t next = 0;
  for (size_t i = 0; i < au.nals.size(); i++) {
    if (next < slices.size() && slices[next].nal == i) {
      const Slice& s = slices[next];
      const int end = next + 1 < slices.size() ? slices[next + 1].header.firstMb : sps.sizeMbs();
      next++;
      if (s.header.kind() != 0) {
        out.nals.push_back(au.nals[i]);  // an I slice inside a P picture: keep it
        continue;
      }
      const Pps& slicePps = params.pps.at(s.header.ppsId);
      BitWriter w;
      WriteSliceHeader(w, s.header, s.refIdc, sps, slicePps, CavlcPpsId(s.header.ppsId));
      SliceStats st = field.WriteSlice(w, mbs, s.header.firstMb, end, static_cast<int>(next));
      w.trailing();
      result_.skippedMbs += st.skipped;
      result_.interMbs += st.inter;
      result_.intraMbs += st.intra;
      Nal nal;
      nal.push_back(static_cast<uint8_t>((s.refIdc << 5) | kNalSlice));
      Escape(w.bytes(), nal);
      out.nals.push_back(std::move(nal));
    } else {
      const Nal& nal = au.nals[i];
      out.nals.push_back(nal);
      if (!nal.empty() && (nal[0] & 0x1f) == kNalPps) {
        // Our CAVLC twin follows each PPS, so it is known wherever the original is.
        out.nals.push_back(CavlcTwin(nal, params));
      }
    }
  }
  result_.rewrittenFrames++;
  result_.frameKinds += 'R';
  return out;
}

void Cropper::OpenOutput(const AVStream* in) {
  // Parameter sets for the output header: the input's, each followed by its CAVLC twin.
  std::vector<uint8_t> header;
  for (const Nal& nal : extraNals_) {
    const uint8_t start[4] = {0, 0, 0, 1};
    header.insert(header.end(), start, start + 4);
    header.insert(header.end(), nal.begin(), nal.end());
    if (!nal.empty() && (nal[0] & 0x1f) == kNalPps) {
      const Nal twin = CavlcTwin(nal, *params_);
      header.insert(header.end(), start, start + 4);
      header.insert(header.end(), twin.begin(), twin.end());
    }
  }
  result_.parameterSetBytes = static_cast<int64_t>(header.size());
  if (options_.annexB) {
    raw_ = std::fopen(options_.output.c_str(), "wb");
    if (!raw_) throw CodecError(options_.output + ": cannot create the output file");
    if (!header.empty() && std::fwrite(header.data(), 1, header.size(), raw_) != header.size()) {
      throw CodecError(options_.output + ": write failed");
    }
    result_.outputVideoBytes += static_cast<int64_t>(header.size());
    return;
  }
  result_.outputVideoBytes += static_cast<int64_t>(header.size());  // avcC holds them in MP4
  int ret = avformat_alloc_output_context2(&muxer_, nullptr, "mp4", options_.output.c_str());
  if (ret < 0 || !muxer_) ThrowAv(options_.output, "cannot create an MP4 muxer", ret);
  outStream_ = avformat_new_stream(muxer_, nullptr);
  if (!outStream_) throw CodecError(options_.output + ": out of memory adding a stream");
  ret = avcodec_parameters_copy(outStream_->codecpar, in->codecpar);
  if (ret < 0) ThrowAv(options_.output, "cannot copy stream parameters", ret);
  outStream_->codecpar->codec_tag = 0;
  av_freep(&outStream_->codecpar->extradata);
  outStream_->codecpar->extradata_size = 0;
  if (!header.empty()) {
    outStream_->codecpar->extradata = static_cast<uint8_t*>(av_mallocz(header.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!outStream_->codecpar->extradata) throw CodecError(options_.output + ": out of memory");
    std::memcpy(outStream_->codecpar->extradata, header.data(), header.size());
    outStream_->codecpar->extradata_size = static_cast<int>(header.size());
  }
  outStream_->time_base = timeBase_;
  ret = avio_open(&muxer_->pb, options_.output.c_str(), AVIO_FLAG_WRITE);
  if (ret < 0) ThrowAv(options_.output, "cannot create the output file", ret);
  ret = avformat_write_header(muxer_, nullptr);
  if (ret < 0) ThrowAv(options_.output, "cannot write the MP4 header", ret);
}

void Cropper::Emit(const AccessUnit& au) {
  std::vector<uint8_t> bytes;
  for (const Nal& nal : au.nals) {
    const uint8_t start[4] = {0, 0, 0, 1};
    bytes.insert(bytes.end(), start, start + 4);
    bytes.insert(bytes.end(), nal.begin(), nal.end());
  }
  result_.outputVideoBytes += static_cast<int64_t>(bytes.size());
  result_.frameBytes.push_back(static_cast<int64_t>(bytes.size()));
  if (raw_) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), raw_) != bytes.size()) throw CodecError(options_.output + ": write failed");
    return;
  }
  PacketPtr packet = AllocPacket();
  int ret = av_new_packet(packet.get(), static_cast<int>(bytes.size()));
  if (ret < 0) ThrowAv(options_.output, "cannot allocate a packet", ret);
  std::memcpy(packet->data, bytes.data(), bytes.size());
  const int64_t index = result_.frames;
  const int64_t fallback = av_rescale_q(index, av_inv_q(av_d2q(fps_, 100000)), timeBase_);
  packet->pts = au.pts != AV_NOPTS_VALUE ? au.pts : fallback;
  packet->dts = au.dts != AV_NOPTS_VALUE ? au.dts : packet->pts;
  packet->duration = au.duration;
  if (au.key) packet->flags |= AV_PKT_FLAG_KEY;
  packet->stream_index = 0;
  av_packet_rescale_ts(packet.get(), timeBase_, outStream_->time_base);
  ret = av_interleaved_write_frame(muxer_, packet.get());
  if (ret < 0) ThrowAv(options_.output, "cannot write a packet", ret);
}

CropResult Cropper::Run() {
  LogSink log;
  ScopedLogSink sink(&log);
  OpenedInput input = OpenVideoInput(options_.input, true);
  AVStream* stream = input.format->streams[input.streamIndex];
  if (stream->codecpar->codec_id != AV_CODEC_ID_H264) {
    throw CodecError(options_.input + ": crop reads H.264 only, this is " +
                     avcodec_get_name(stream->codecpar->codec_id) +
                     "; re-encode it first: mvclass encode <in> -o <out.mp4> --bframes 0");
  }
  timeBase_ = stream->time_base;
  AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  fps_ = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 25;
  ReadExtradata(stream->codecpar);

  CodecPtr codec(avcodec_alloc_context3(input.decoder));
  if (!codec) throw CodecError(options_.input + ": out of memory allocating a decoder");
  int ret = avcodec_parameters_to_context(codec.get(), stream->codecpar);
  if (ret < 0) ThrowAv(options_.input, "cannot configure the decoder", ret);
  codec->thread_count = 1;
  codec->skip_loop_filter = AVDISCARD_ALL;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "flags2", "+export_mvs", 0);
  ret = avcodec_open2(codec.get(), input.decoder, &opts);
  av_dict_free(&opts);
  if (ret < 0) ThrowAv(options_.input, "cannot open the decoder", ret);

  FramePtr frame = AllocFrame();
  PacketPtr packet = AllocPacket();
  std::deque<AccessUnit> pending;
  bool opened = false;

  auto drain = [&](bool flushing) {
    for (;;) {
      int r = avcodec_receive_frame(codec.get(), frame.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) break;
      if (r < 0) ThrowAv(options_.input, "decoding failed", r);
      if (pending.empty()) throw CodecError(Where() + ": the decoder returned more pictures than the stream has");
      AccessUnit au = std::move(pending.front());
      pending.pop_front();
      AccessUnit out = Rewrite(au, frame.get());
      av_frame_unref(frame.get());
      Emit(out);
      result_.frames++;
    }
    if (flushing && !pending.empty()) {
      throw CodecError(options_.input + ": " + std::to_string(pending.size()) +
                       " access unit(s) could not be decoded (damaged or truncated stream?)");
    }
  };

  try {
    for (;;) {
      ret = av_read_frame(input.format.get(), packet.get());
      if (ret == AVERROR_EOF) break;
      if (ret < 0) ThrowAv(options_.input, "reading failed", ret);
      if (packet->stream_index != input.streamIndex) {
        av_packet_unref(packet.get());
        continue;
      }
      AccessUnit au;
      if (lengthSize_ > 0) SplitLengthPrefixed(packet->data, packet->size, lengthSize_, au.nals, options_.input);
      else SplitAnnexB(packet->data, packet->size, au.nals);
      au.pts = packet->pts;
      au.dts = packet->dts;
      au.duration = packet->duration;
      au.key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
      result_.inputVideoBytes += packet->size;
      LearnParameterSets(au.nals);
      au.params = params_;
      if (!opened) {
        if (extraNals_.empty()) {
          for (const Nal& nal : au.nals) {
            const int type = nal.empty() ? 0 : nal[0] & 0x1f;
            if (type == kNalSps || type == kNalPps) extraNals_.push_back(nal);
          }
        }
        OpenOutput(stream);
        opened = true;
      }
      pending.push_back(std::move(au));
      ret = avcodec_send_packet(codec.get(), packet.get());
      av_packet_unref(packet.get());
      if (ret < 0 && ret != AVERROR(EAGAIN)) ThrowAv(Where(), "the decoder rejected a packet", ret);
      drain(false);
    }
    avcodec_send_packet(codec.get(), nullptr);
    drain(true);
    if (result_.frames == 0) throw CodecError(options_.input + ": no frames to crop");
    if (muxer_) {
      ret = av_write_trailer(muxer_);
      if (ret < 0) ThrowAv(options_.output, "cannot finish the MP4 file", ret);
    }
  } catch (...) {
    if (raw_) std::fclose(raw_);
    raw_ = nullptr;
    if (muxer_) {
      avio_closep(&muxer_->pb);
      avformat_free_context(muxer_);
      muxer_ = nullptr;
    }
    throw;
  }
  if (raw_ && std::fclose(raw_) != 0) {
    raw_ = nullptr;
    throw CodecError(options_.output + ": write failed");
  }
  raw_ = nullptr;
  if (muxer_) {
    ret = avio_closep(&muxer_->pb);
    avformat_free_context(muxer_);
    muxer_ = nullptr;
    if (ret < 0) ThrowAv(options_.output, "cannot close the output", ret);
  }
  result_.duration = fps_ > 0 ? result_.frames / fps_ : 0;
  for (const std::string& line : log.lines) result_.warnings.push_back(options_.input + ": " + line);
  return result_;
}

}  // namespace

CropResult CropH264(const CropOptions& options) {
  try {
    return Cropper(options).Run();
  } catch (const BitstreamError& e) {
    throw CodecError(options.input + ": cannot parse the H.264 stream: " + e.what());
  }
}

}  // namespace mvclass
