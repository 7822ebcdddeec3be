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

// The input side: demuxing, NAL units (Annex-B or avcC length prefixes), and FFmpeg's decoder
// with exported vectors. Each access unit sent to the decoder waits in a queue until the decoder
// hands back its picture (decoding order is output order: crop takes no B-frames).
class CropSource {
 public:
  CropSource(const std::string& path, CropResult& result) : path_(path), result_(result) {
    input_ = OpenVideoInput(path, true);
    stream_ = input_.format->streams[input_.streamIndex];
    if (stream_->codecpar->codec_id != AV_CODEC_ID_H264) {
      throw CodecError(path + ": crop reads H.264 only, this is " + avcodec_get_name(stream_->codecpar->codec_id) +
                       "; re-encode it first: mvclass encode <in> -o <out.mp4> --bframes 0");
    }
    ReadExtradata(stream_->codecpar);
  }
  const AVStream* stream() const { return stream_; }
  double fps() const {
    const AVRational rate = stream_->avg_frame_rate.num > 0 ? stream_->avg_frame_rate : stream_->r_frame_rate;
    return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 25;
  }
  // The parameter sets of the container's header (avcC or Annex-B extradata); may be empty.
  const std::vector<Nal>& extradataNals() const { return extraNals_; }
  // Opened after the header's parameter sets were learnt, so that a bad one is reported as such.
  void OpenDecoder() {
    DecoderSettings settings;
    settings.exportVectors = true;
    settings.skipLoopFilter = true;
    decoder_ = mvclass::OpenDecoder(path_, input_, settings);
    frame_ = AllocFrame();
    packet_ = AllocPacket();
  }
  // The next packet of the video stream as an access unit (NAL units and timing, no parameter
  // sets yet); false at the end. The packet is kept for Submit.
  bool Read(AccessUnit& au) {
    for (;;) {
      const int ret = av_read_frame(input_.format.get(), packet_.get());
      if (ret == AVERROR_EOF) return false;
      if (ret < 0) ThrowAv(path_, "reading failed", ret);
      if (packet_->stream_index == input_.streamIndex) break;
      av_packet_unref(packet_.get());
    }
    au = AccessUnit();
    if (lengthSize_ > 0) SplitLengthPrefixed(packet_->data, packet_->size, lengthSize_, au.nals, path_);
    else SplitAnnexB(packet_->data, packet_->size, au.nals);
    au.pts = packet_->pts;
    au.dts = packet_->dts;
    au.duration = packet_->duration;
    au.key = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
    result_.inputVideoBytes += packet_->size;
    return true;
  }
  // Queues `au` (read last) and sends its packet to the decoder.
  void Submit(AccessUnit&& au) {
    pending_.push_back(std::move(au));
    const int ret = avcodec_send_packet(decoder_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (ret < 0 && ret != AVERROR(EAGAIN)) ThrowAv(Where(), "the decoder rejected a packet", ret);
  }
  // The end of the input: the decoder gives what it still holds.
  void Flush() { avcodec_send_packet(decoder_.get(), nullptr); }
  // The next decoded picture and the access unit it came from; false when the decoder needs
  // more input or is drained. The picture is valid until the next call.
  bool Receive(AccessUnit& au, const AVFrame*& picture) {
    av_frame_unref(frame_.get());
    const int ret = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return false;
    if (ret < 0) ThrowAv(path_, "decoding failed", ret);
    if (pending_.empty()) throw CodecError(Where() + ": the decoder returned more pictures than the stream has");
    au = std::move(pending_.front());
    pending_.pop_front();
    delivered_++;
    picture = frame_.get();
    return true;
  }
  size_t pending() const { return pending_.size(); }

 private:
  void ReadExtradata(const AVCodecParameters* par);
  std::string Where() const { return path_ + ": frame " + std::to_string(delivered_); }

  std::string path_;
  CropResult& result_;
  OpenedInput input_;
  AVStream* stream_ = nullptr;
  int lengthSize_ = 0;  // 0: Annex-B input
  std::vector<Nal> extraNals_;
  CodecPtr decoder_;
  FramePtr frame_;
  PacketPtr packet_;
  std::deque<AccessUnit> pending_;
  int64_t delivered_ = 0;
};

void CropSource::ReadExtradata(const AVCodecParameters* par) {
  const uint8_t* d = par->extradata;
  const int n = par->extradata_size;
  if (n <= 0) return;
  if (d[0] == 1) {  // avcC (ISO/IEC 14496-15)
    if (n < 7) throw CodecError(path_ + ": truncated avcC header");
    lengthSize_ = (d[4] & 3) + 1;
    if (lengthSize_ == 3) throw CodecError(path_ + ": avcC header with a NAL length size of 3 bytes (only 1, 2 or 4 exist)");
    int i = 5;
    for (int list = 0; list < 2; list++) {
      if (i >= n) throw CodecError(path_ + ": truncated avcC header");
      int count = list == 0 ? (d[i] & 0x1f) : d[i];
      i++;
      for (int k = 0; k < count; k++) {
        if (i + 2 > n) throw CodecError(path_ + ": truncated avcC header");
        const int len = (d[i] << 8) | d[i + 1];
        i += 2;
        if (i + len > n) throw CodecError(path_ + ": truncated avcC header");
        extraNals_.emplace_back(d + i, d + i + len);
        i += len;
      }
    }
  } else {
    SplitAnnexB(d, static_cast<size_t>(n), extraNals_);
  }
}

// The middle: the parameter sets in force (a snapshot for each access unit) and the rewriting
// of P slices with no residual under CAVLC twins of the input's picture parameter sets.
class CropRewriter {
 public:
  CropRewriter(const std::string& path, CropResult& result) : path_(path), result_(result) {}
  // Learns the SPS and PPS NAL units among `nals`; returns the parameter sets in force after them.
  std::shared_ptr<const ParameterSets> Learn(const std::vector<Nal>& nals);
  // The output's header: `nals` in Annex-B, each PPS followed by its CAVLC twin.
  std::vector<uint8_t> Header(const std::vector<Nal>& nals);
  // Access unit number `index` with the picture the decoder made of it (or null).
  AccessUnit Rewrite(const AccessUnit& au, const AVFrame* frame, int64_t index);

 private:
  std::vector<MbMotion> MotionOf(const AVFrame* frame, const Sps& sps);
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
    throw CodecError(path_ + ": no free picture parameter set id for the CAVLC twin");
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
  std::string Where() const { return path_ + ": frame " + std::to_string(index_); }

  std::string path_;
  CropResult& result_;
  int64_t index_ = 0;  // the access unit being rewritten, for messages
  std::shared_ptr<const ParameterSets> params_ = std::make_shared<ParameterSets>();
  std::set<int> inputPpsIds_;
  std::map<int, int> twinIds_;  // input PPS id -> its CAVLC twin's id
};

std::shared_ptr<const ParameterSets> CropRewriter::Learn(const std::vector<Nal>& nals) {
  std::shared_ptr<ParameterSets> next;  // copied on the first parameter set, so most units share
  for (const Nal& nal : nals) {
    if (nal.empty()) continue;
    const int type = nal[0] & 0x1f;
    if (type != kNalSps && type != kNalPps) continue;
    if (!next) next = std::make_shared<ParameterSets>(*params_);
    std::vector<uint8_t> rbsp = Unescape(nal.data() + 1, nal.size() - 1);
    if (type == kNalSps) {
      Sps s = ParseSps(rbsp);
      if (!s.frameMbsOnly) throw CodecError(path_ + ": interlaced H.264 is not supported by crop");
      if (s.chromaFormat != 1) throw CodecError(path_ + ": crop needs 4:2:0 video");
      next->sps[s.id] = s;
    } else {
      Pps p = ParsePps(rbsp, next->sps);
      next->pps[p.id] = p;
      inputPpsIds_.insert(p.id);
      for (const auto& t : twinIds_) {
        if (t.second == p.id) throw CodecError(path_ + ": a picture parameter set arrives with the id crop gave a CAVLC twin");
      }
    }
  }
  if (next) params_ = std::move(next);
  return params_;
}

std::vector<uint8_t> CropRewriter::Header(const std::vector<Nal>& nals) {
  std::vector<uint8_t> header;
  for (const Nal& nal : nals) {
    const uint8_t start[4] = {0, 0, 0, 1};
    header.insert(header.end(), start, start + 4);
    header.insert(header.end(), nal.begin(), nal.end());
    if (!nal.empty() && (nal[0] & 0x1f) == kNalPps) {
      const Nal twin = CavlcTwin(nal, *params_);
      header.insert(header.end(), start, start + 4);
      header.insert(header.end(), twin.begin(), twin.end());
    }
  }
  return header;
}

std::vector<MbMotion> CropRewriter::MotionOf(const AVFrame* frame, const Sps& sps) {
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

AccessUnit CropRewriter::Rewrite(const AccessUnit& au, const AVFrame* frame, int64_t index) {
  index_ = index;
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

// The output side: the rewritten access units as Annex-B bytes in a file, or in an MP4 through
// libavformat. Both outputs are owned, so that every error path closes them.
class CropSink {
 public:
  CropSink(const CropOptions& options, CropResult& result) : options_(options), result_(result) {}
  bool opened() const { return opened_; }
  // `header`: the parameter sets (Annex-B) that go before the first access unit, or in avcC.
  void Open(const AVStream* in, double fps, const std::vector<uint8_t>& header);
  void Emit(const AccessUnit& au, int64_t index);
  // The MP4 trailer, then the file closed: every failure is an error.
  void Finish();

 private:
  const CropOptions& options_;
  CropResult& result_;
  bool opened_ = false;
  FilePtr raw_;
  OutputPtr muxer_;
  AVStream* outStream_ = nullptr;
  AVRational timeBase_{1, 25};
  double fps_ = 25;
};

void CropSink::Open(const AVStream* in, double fps, const std::vector<uint8_t>& header) {
  opened_ = true;
  timeBase_ = in->time_base;
  fps_ = fps;
  result_.parameterSetBytes = static_cast<int64_t>(header.size());
  if (options_.annexB) {
    raw_.reset(std::fopen(options_.output.c_str(), "wb"));
    if (!raw_) throw CodecError(options_.output + ": cannot create the output file");
    if (!header.empty() && std::fwrite(header.data(), 1, header.size(), raw_.get()) != header.size()) {
      throw CodecError(options_.output + ": write failed");
    }
    result_.outputVideoBytes += static_cast<int64_t>(header.size());
    return;
  }
  result_.outputVideoBytes += static_cast<int64_t>(header.size());  // avcC holds them in MP4
  AVFormatContext* muxer = nullptr;
  int ret = avformat_alloc_output_context2(&muxer, nullptr, "mp4", options_.output.c_str());
  muxer_.reset(muxer);
  if (ret < 0 || !muxer_) ThrowAv(options_.output, "cannot create an MP4 muxer", ret);
  outStream_ = avformat_new_stream(muxer_.get(), nullptr);
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
  ret = avformat_write_header(muxer_.get(), nullptr);
  if (ret < 0) ThrowAv(options_.output, "cannot write the MP4 header", ret);
}

void CropSink::Emit(const AccessUnit& au, int64_t index) {
  std::vector<uint8_t> bytes;
  for (const Nal& nal : au.nals) {
    const uint8_t start[4] = {0, 0, 0, 1};
    bytes.insert(bytes.end(), start, start + 4);
    bytes.insert(bytes.end(), nal.begin(), nal.end());
  }
  result_.outputVideoBytes += static_cast<int64_t>(bytes.size());
  result_.frameBytes.push_back(static_cast<int64_t>(bytes.size()));
  if (raw_) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), raw_.get()) != bytes.size()) throw CodecError(options_.output + ": write failed");
    return;
  }
  PacketPtr packet = AllocPacket();
  int ret = av_new_packet(packet.get(), static_cast<int>(bytes.size()));
  if (ret < 0) ThrowAv(options_.output, "cannot allocate a packet", ret);
  std::memcpy(packet->data, bytes.data(), bytes.size());
  const int64_t fallback = av_rescale_q(index, av_inv_q(av_d2q(fps_, 100000)), timeBase_);
  packet->pts = au.pts != AV_NOPTS_VALUE ? au.pts : fallback;
  packet->dts = au.dts != AV_NOPTS_VALUE ? au.dts : packet->pts;
  packet->duration = au.duration;
  if (au.key) packet->flags |= AV_PKT_FLAG_KEY;
  packet->stream_index = 0;
  av_packet_rescale_ts(packet.get(), timeBase_, outStream_->time_base);
  ret = av_interleaved_write_frame(muxer_.get(), packet.get());
  if (ret < 0) ThrowAv(options_.output, "cannot write a packet", ret);
}

void CropSink::Finish() {
  if (muxer_) {
    const int ret = av_write_trailer(muxer_.get());
    if (ret < 0) ThrowAv(options_.output, "cannot finish the MP4 file", ret);
  }
  if (raw_ && std::fclose(raw_.release()) != 0) throw CodecError(options_.output + ": write failed");
  if (muxer_) {
    const int ret = CloseOutput(muxer_);
    if (ret < 0) ThrowAv(options_.output, "cannot close the output", ret);
  }
}

// Source -> rewriter -> sink, one access unit at a time.
CropResult Crop(const CropOptions& options) {
  LogSink log;
  ScopedLogSink logSink(&log);
  CropResult result;
  CropSource source(options.input, result);
  CropRewriter rewriter(options.input, result);
  rewriter.Learn(source.extradataNals());
  source.OpenDecoder();
  CropSink sink(options, result);

  auto drain = [&]() {
    AccessUnit au;
    const AVFrame* picture = nullptr;
    while (source.Receive(au, picture)) {
      sink.Emit(rewriter.Rewrite(au, picture, result.frames), result.frames);
      result.frames++;
    }
  };
  AccessUnit au;
  while (source.Read(au)) {
    au.params = rewriter.Learn(au.nals);
    if (!sink.opened()) {
      // The output's header: the container's parameter sets, or else the first packet's.
      std::vector<Nal> header = source.extradataNals();
      if (header.empty()) {
        for (const Nal& nal : au.nals) {
          const int type = nal.empty() ? 0 : nal[0] & 0x1f;
          if (type == kNalSps || type == kNalPps) header.push_back(nal);
        }
      }
      sink.Open(source.stream(), source.fps(), rewriter.Header(header));
    }
    source.Submit(std::move(au));
    drain();
  }
  source.Flush();
  drain();
  if (source.pending() > 0) {
    throw CodecError(options.input + ": " + std::to_string(source.pending()) +
                     " access unit(s) could not be decoded (damaged or truncated stream?)");
  }
  if (result.frames == 0) throw CodecError(options.input + ": no frames to crop");
  sink.Finish();
  result.duration = source.fps() > 0 ? result.frames / source.fps() : 0;
  for (const std::string& line : log.lines) result.warnings.push_back(options.input + ": " + line);
  return result;
}

}  // namespace

CropResult CropH264(const CropOptions& options) {
  try {
    return Crop(options);
  } catch (const BitstreamError& e) {
    throw CodecError(options.input + ": cannot parse the H.264 stream: " + e.what());
  }
}

}  // namespace mvclass
