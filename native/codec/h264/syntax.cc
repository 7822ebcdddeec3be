#include "syntax.h"

#include <string>

namespace mvclass::h264 {

namespace {
void SkipScalingList(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; j++) {
    if (next != 0) next = (last + r.se() + 256) % 256;
    last = next == 0 ? last : next;
  }
}

bool HighProfile(int profile) {
  switch (profile) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128:
    case 138: case 139: case 134: case 135:
      return true;
    default:
      return false;
  }
}
}  // namespace

Sps ParseSps(const std::vector<uint8_t>& rbsp) {
  BitReader r(rbsp);
  Sps s;
  s.profile = static_cast<int>(r.u(8));
  r.u(8);  // constraint flags
  r.u(8);  // level
  s.id = static_cast<int>(r.ue());
  if (s.id > 31) throw BitstreamError("SPS id out of range");
  if (HighProfile(s.profile)) {
    s.chromaFormat = static_cast<int>(r.ue());
    if (s.chromaFormat == 3) s.separateColourPlane = r.flag();
    r.ue();  // bit_depth_luma_minus8
    r.ue();  // bit_depth_chroma_minus8
    r.flag();  // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      const int lists = s.chromaFormat != 3 ? 8 : 12;
      for (int i = 0; i < lists; i++) {
        if (r.flag()) SkipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  s.log2MaxFrameNum = static_cast<int>(r.ue()) + 4;
  s.pocType = static_cast<int>(r.ue());
  if (s.pocType == 0) {
    s.log2MaxPocLsb = static_cast<int>(r.ue()) + 4;
  } else if (s.pocType == 1) {
    s.deltaPicOrderAlwaysZero = r.flag();
    r.se();
    r.se();
    const uint32_t cycle = r.ue();
    for (uint32_t i = 0; i < cycle; i++) r.se();
  }
  r.ue();    // max_num_ref_frames
  r.flag();  // gaps_in_frame_num_value_allowed_flag
  s.widthMbs = static_cast<int>(r.ue()) + 1;
  s.heightMbs = static_cast<int>(r.ue()) + 1;
  s.frameMbsOnly = r.flag();
  return s;
}

Pps ParsePps(const std::vector<uint8_t>& rbsp, const std::map<int, Sps>& spsById) {
  BitReader r(rbsp);
  Pps p;
  p.id = static_cast<int>(r.ue());
  p.spsId = static_cast<int>(r.ue());
  if (p.id > 255) throw BitstreamError("PPS id out of range");
  auto sps = spsById.find(p.spsId);
  if (sps == spsById.end()) throw BitstreamError("PPS refers to a missing SPS " + std::to_string(p.spsId));
  p.cabac = r.flag();
  p.bottomFieldPicOrderPresent = r.flag();
  p.sliceGroups = static_cast<int>(r.ue()) + 1;
  if (p.sliceGroups > 1) throw BitstreamError("slice groups (FMO) are not supported");
  p.numRefIdxL0Default = static_cast<int>(r.ue()) + 1;
  p.numRefIdxL1Default = static_cast<int>(r.ue()) + 1;
  p.weightedPred = r.flag();
  p.weightedBipredIdc = static_cast<int>(r.u(2));
  p.picInitQpMinus26 = r.se();
  p.picInitQsMinus26 = r.se();
  p.chromaQpIndexOffset = r.se();
  p.deblockingFilterControlPresent = r.flag();
  p.constrainedIntraPred = r.flag();
  p.redundantPicCntPresent = r.flag();
  p.secondChromaQpIndexOffset = p.chromaQpIndexOffset;
  if (r.moreRbspData()) {
    p.transform8x8 = r.flag();
    if (r.flag()) {
      const int lists = 6 + (sps->second.chromaFormat != 3 ? 2 : 6) * (p.transform8x8 ? 1 : 0);
      for (int i = 0; i < lists; i++) {
        if (r.flag()) SkipScalingList(r, i < 6 ? 16 : 64);
      }
    }
    p.secondChromaQpIndexOffset = r.se();
  }
  return p;
}

std::vector<uint8_t> WriteCavlcPps(const Pps& s, int newId) {
  BitWriter w;
  w.ue(static_cast<uint32_t>(newId));
  w.ue(static_cast<uint32_t>(s.spsId));
  w.flag(false);  // entropy_coding_mode_flag: CAVLC
  w.flag(s.bottomFieldPicOrderPresent);
  w.ue(0);  // one slice group
  w.ue(0);  // num_ref_idx_l0_default_active_minus1
  w.ue(0);  // num_ref_idx_l1_default_active_minus1
  w.flag(false);  // weighted_pred_flag
  w.u(2, 0);      // weighted_bipred_idc
  w.se(s.picInitQpMinus26);  // kept: slice QP = 26 + init + the copied slice_qp_delta
  w.se(s.picInitQsMinus26);
  w.se(s.chromaQpIndexOffset);  // kept: chroma QP steers the deblocking filter
  w.flag(s.deblockingFilterControlPresent);
  w.flag(s.constrainedIntraPred);
  w.flag(false);  // redundant_pic_cnt_present_flag
  if (s.secondChromaQpIndexOffset != s.chromaQpIndexOffset) {
    w.flag(false);  // transform_8x8_mode_flag
    w.flag(false);  // pic_scaling_matrix_present_flag
    w.se(s.secondChromaQpIndexOffset);
  }
  w.trailing();
  return w.bytes();
}

SliceHeader ParseSliceHeader(BitReader& r, int nalRefIdc, const std::map<int, Sps>& spsById,
                             const std::map<int, Pps>& ppsById) {
  SliceHeader h;
  h.firstMb = static_cast<int>(r.ue());
  h.sliceType = static_cast<int>(r.ue());
  if (h.sliceType > 9) throw BitstreamError("slice_type out of range");
  h.ppsId = static_cast<int>(r.ue());
  auto ppsIt = ppsById.find(h.ppsId);
  if (ppsIt == ppsById.end()) throw BitstreamError("slice refers to a missing PPS " + std::to_string(h.ppsId));
  const Pps& pps = ppsIt->second;
  const Sps& sps = spsById.at(pps.spsId);
  if (sps.separateColourPlane) throw BitstreamError("separate colour planes are not supported");
  h.frameNum = r.u(sps.log2MaxFrameNum);
  if (!sps.frameMbsOnly) throw BitstreamError("interlaced (field or MBAFF) coding is not supported");
  if (sps.pocType == 0) {
    h.pocLsb = r.u(sps.log2MaxPocLsb);
    if (pps.bottomFieldPicOrderPresent) h.deltaPocBottom = r.se();
  } else if (sps.pocType == 1 && !sps.deltaPicOrderAlwaysZero) {
    h.deltaPoc[0] = r.se();
    if (pps.bottomFieldPicOrderPresent) h.deltaPoc[1] = r.se();
  }
  if (pps.redundantPicCntPresent) h.redundantPicCnt = r.ue();
  const int kind = h.kind();
  if (kind != 0) return h;  // only P slices are rewritten; others are copied as they are

  int numRefL0 = pps.numRefIdxL0Default;
  if (r.flag()) numRefL0 = static_cast<int>(r.ue()) + 1;  // num_ref_idx_active_override_flag
  if (r.flag()) {  // ref_pic_list_modification_flag_l0
    for (;;) {
      const uint32_t idc = r.ue();
      if (idc == 3) break;
      if (idc > 5) throw BitstreamError("bad modification_of_pic_nums_idc");
      r.ue();
    }
  }
  if (pps.weightedPred) {
    r.ue();  // luma_log2_weight_denom
    if (sps.chromaFormat != 0) r.ue();
    for (int i = 0; i < numRefL0; i++) {
      if (r.flag()) {
        r.se();
        r.se();
      }
      if (sps.chromaFormat != 0 && r.flag()) {
        for (int j = 0; j < 4; j++) r.se();
      }
    }
  }
  if (nalRefIdc != 0) {
    h.adaptiveMarking = r.flag();
    if (h.adaptiveMarking) {
      for (;;) {
        MemoryOp op;
        op.op = r.ue();
        if (op.op == 0) break;
        if (op.op == 1 || op.op == 3) op.a = r.ue();
        if (op.op == 2) op.a = r.ue();
        if (op.op == 3 || op.op == 6) op.b = r.ue();
        if (op.op == 4) op.a = r.ue();
        if (op.op > 6) throw BitstreamError("bad memory_management_control_operation");
        h.memoryOps.push_back(op);
      }
    }
  }
  if (pps.cabac) r.ue();  // cabac_init_idc
  h.sliceQpDelta = r.se();
  if (pps.deblockingFilterControlPresent) {
    h.hasDeblocking = true;
    h.disableDeblocking = r.ue();
    if (h.disableDeblocking != 1) {
      h.alphaOffset = r.se();
      h.betaOffset = r.se();
    }
  }
  return h;
}

void WriteSliceHeader(BitWriter& w, const SliceHeader& h, int nalRefIdc, const Sps& sps,
                      const Pps& pps, int ppsId) {
  w.ue(static_cast<uint32_t>(h.firstMb));
  w.ue(static_cast<uint32_t>(h.sliceType));
  w.ue(static_cast<uint32_t>(ppsId));
  w.u(sps.log2MaxFrameNum, h.frameNum);
  if (sps.pocType == 0) {
    w.u(sps.log2MaxPocLsb, h.pocLsb);
    if (pps.bottomFieldPicOrderPresent) w.se(h.deltaPocBottom);
  } else if (sps.pocType == 1 && !sps.deltaPicOrderAlwaysZero) {
    w.se(h.deltaPoc[0]);
    if (pps.bottomFieldPicOrderPresent) w.se(h.deltaPoc[1]);
  }
  // One reference: ref_idx is never coded and every vector points at list 0's first picture.
  w.flag(false);  // num_ref_idx_active_override_flag (the CAVLC PPS defaults to one)
  w.flag(false);  // ref_pic_list_modification_flag_l0
  if (nalRefIdc != 0) {
    w.flag(h.adaptiveMarking);
    if (h.adaptiveMarking) {
      for (const MemoryOp& op : h.memoryOps) {
        w.ue(op.op);
        if (op.op == 1 || op.op == 3 || op.op == 2 || op.op == 4) w.ue(op.a);
        if (op.op == 3 || op.op == 6) w.ue(op.b);
      }
      w.ue(0);
    }
  }
  w.se(h.sliceQpDelta);
  if (pps.deblockingFilterControlPresent) {
    w.ue(h.disableDeblocking);
    if (h.disableDeblocking != 1) {
      w.se(h.alphaOffset);
      w.se(h.betaOffset);
    }
  }
}

}  // namespace mvclass::h264
