#include "syntax.h"

#include <string>

namespace mvclass::h264 {

namespace {
// Syntax elements read with the range the standard gives them (7.4.2.1.1, 7.4.2.2, 7.4.3), so
// that nothing out of range is ever cast, added to, or used as a size or an index.
uint32_t UeAtMost(BitReader& r, uint32_t max, const char* name) {
  const uint32_t v = r.ue();
  if (v > max) {
    throw BitstreamError(std::string(name) + " " + std::to_string(v) + " is out of range (at most " + std::to_string(max) + ")");
  }
  return v;
}

int32_t SeWithin(BitReader& r, int32_t min, int32_t max, const char* name) {
  const int32_t v = r.se();
  if (v < min || v > max) {
    throw BitstreamError(std::string(name) + " " + std::to_string(v) + " is out of range (" + std::to_string(min) + " to " +
                         std::to_string(max) + ")");
  }
  return v;
}

void SkipScalingList(BitReader& r, int size) {
  int last = 8, next = 8;
  for (int j = 0; j < size; j++) {
    if (next != 0) next = (last + SeWithin(r, -128, 127, "delta_scale") + 256) % 256;
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
  r.u(8);  // level_idc: not enforced (see kMaxFrameSizeMbs)
  s.id = static_cast<int>(UeAtMost(r, kMaxSpsId, "seq_parameter_set_id"));
  if (HighProfile(s.profile)) {
    s.chromaFormat = static_cast<int>(UeAtMost(r, 3, "chroma_format_idc"));
    if (s.chromaFormat == 3) s.separateColourPlane = r.flag();
    s.bitDepthLuma = 8 + static_cast<int>(UeAtMost(r, 6, "bit_depth_luma_minus8"));
    UeAtMost(r, 6, "bit_depth_chroma_minus8");
    r.flag();  // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      const int lists = s.chromaFormat != 3 ? 8 : 12;
      for (int i = 0; i < lists; i++) {
        if (r.flag()) SkipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  s.log2MaxFrameNum = static_cast<int>(UeAtMost(r, 12, "log2_max_frame_num_minus4")) + 4;
  s.pocType = static_cast<int>(UeAtMost(r, 2, "pic_order_cnt_type"));
  if (s.pocType == 0) {
    s.log2MaxPocLsb = static_cast<int>(UeAtMost(r, 12, "log2_max_pic_order_cnt_lsb_minus4")) + 4;
  } else if (s.pocType == 1) {
    s.deltaPicOrderAlwaysZero = r.flag();
    r.se();  // offset_for_non_ref_pic
    r.se();  // offset_for_top_to_bottom_field
    const uint32_t cycle = UeAtMost(r, 255, "num_ref_frames_in_pic_order_cnt_cycle");
    for (uint32_t i = 0; i < cycle; i++) r.se();
  }
  UeAtMost(r, 16, "max_num_ref_frames");
  r.flag();  // gaps_in_frame_num_value_allowed_flag
  s.widthMbs = static_cast<int>(UeAtMost(r, kMaxSideMbs - 1, "pic_width_in_mbs_minus1")) + 1;
  const int mapUnits = static_cast<int>(UeAtMost(r, kMaxSideMbs - 1, "pic_height_in_map_units_minus1")) + 1;
  s.frameMbsOnly = r.flag();
  s.heightMbs = s.frameMbsOnly ? mapUnits : 2 * mapUnits;
  if (s.heightMbs > kMaxSideMbs || s.sizeMbs() > kMaxFrameSizeMbs) {
    throw BitstreamError("picture of " + std::to_string(s.widthMbs) + "x" + std::to_string(s.heightMbs) +
                         " macroblocks is larger than any level of the standard allows (" + std::to_string(kMaxFrameSizeMbs) +
                         " macroblocks, " + std::to_string(kMaxSideMbs) + " a side)");
  }
  return s;
}

Pps ParsePps(const std::vector<uint8_t>& rbsp, const std::map<int, Sps>& spsById) {
  BitReader r(rbsp);
  Pps p;
  p.id = static_cast<int>(UeAtMost(r, kMaxPpsId, "pic_parameter_set_id"));
  p.spsId = static_cast<int>(UeAtMost(r, kMaxSpsId, "seq_parameter_set_id"));
  auto sps = spsById.find(p.spsId);
  if (sps == spsById.end()) throw BitstreamError("PPS refers to a missing SPS " + std::to_string(p.spsId));
  p.cabac = r.flag();
  p.bottomFieldPicOrderPresent = r.flag();
  p.sliceGroups = static_cast<int>(UeAtMost(r, 7, "num_slice_groups_minus1")) + 1;
  if (p.sliceGroups > 1) throw BitstreamError("slice groups (FMO) are not supported");
  p.numRefIdxL0Default = static_cast<int>(UeAtMost(r, kMaxRefIdx - 1, "num_ref_idx_l0_default_active_minus1")) + 1;
  p.numRefIdxL1Default = static_cast<int>(UeAtMost(r, kMaxRefIdx - 1, "num_ref_idx_l1_default_active_minus1")) + 1;
  p.weightedPred = r.flag();
  p.weightedBipredIdc = static_cast<int>(r.u(2));
  if (p.weightedBipredIdc > 2) throw BitstreamError("weighted_bipred_idc 3 is out of range (at most 2)");
  const int qpBdOffset = 6 * (sps->second.bitDepthLuma - 8);
  p.picInitQpMinus26 = SeWithin(r, -(26 + qpBdOffset), 25, "pic_init_qp_minus26");
  p.picInitQsMinus26 = SeWithin(r, -26, 25, "pic_init_qs_minus26");
  p.chromaQpIndexOffset = SeWithin(r, -12, 12, "chroma_qp_index_offset");
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
    p.secondChromaQpIndexOffset = SeWithin(r, -12, 12, "second_chroma_qp_index_offset");
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
  // Checked against the picture size once the PPS (and so the SPS) is known.
  const uint32_t firstMb = UeAtMost(r, kMaxFrameSizeMbs - 1, "first_mb_in_slice");
  h.sliceType = static_cast<int>(UeAtMost(r, 9, "slice_type"));
  h.ppsId = static_cast<int>(UeAtMost(r, kMaxPpsId, "pic_parameter_set_id"));
  auto ppsIt = ppsById.find(h.ppsId);
  if (ppsIt == ppsById.end()) throw BitstreamError("slice refers to a missing PPS " + std::to_string(h.ppsId));
  const Pps& pps = ppsIt->second;
  auto spsIt = spsById.find(pps.spsId);
  if (spsIt == spsById.end()) throw BitstreamError("PPS " + std::to_string(pps.id) + " refers to a missing SPS " + std::to_string(pps.spsId));
  const Sps& sps = spsIt->second;
  if (firstMb >= static_cast<uint32_t>(sps.sizeMbs())) {
    throw BitstreamError("first_mb_in_slice " + std::to_string(firstMb) + " is outside the picture of " +
                         std::to_string(sps.sizeMbs()) + " macroblocks");
  }
  h.firstMb = static_cast<int>(firstMb);
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
  if (pps.redundantPicCntPresent) h.redundantPicCnt = UeAtMost(r, 127, "redundant_pic_cnt");
  const int kind = h.kind();
  if (kind != 0) return h;  // only P slices are rewritten; others are copied as they are

  int numRefL0 = pps.numRefIdxL0Default;
  if (r.flag()) {  // num_ref_idx_active_override_flag
    numRefL0 = static_cast<int>(UeAtMost(r, kMaxRefIdx - 1, "num_ref_idx_l0_active_minus1")) + 1;
  }
  if (r.flag()) {  // ref_pic_list_modification_flag_l0
    // One modification per list entry at most (8.2.4.3), then the end marker.
    for (int count = 0;; count++) {
      const uint32_t idc = UeAtMost(r, 5, "modification_of_pic_nums_idc");
      if (idc == 3) break;
      if (count >= numRefL0) throw BitstreamError("more reference list modifications than references");
      r.ue();  // abs_diff_pic_num_minus1 or long_term_pic_num: not used, any value parses
    }
  }
  if (pps.weightedPred) {
    UeAtMost(r, 7, "luma_log2_weight_denom");
    if (sps.chromaFormat != 0) UeAtMost(r, 7, "chroma_log2_weight_denom");
    // Weights and offsets are dropped (the output has one reference and no weighting): parsed
    // only to reach the fields after them, so any value is accepted.
    for (int i = 0; i < numRefL0; i++) {
      if (r.flag()) {
        r.se();  // luma_weight_l0
        r.se();  // luma_offset_l0
      }
      if (sps.chromaFormat != 0 && r.flag()) {
        for (int j = 0; j < 4; j++) r.se();  // chroma_weight_l0, chroma_offset_l0 for Cb and Cr
      }
    }
  }
  if (nalRefIdc != 0) {
    h.adaptiveMarking = r.flag();
    if (h.adaptiveMarking) {
      for (;;) {
        MemoryOp op;
        op.op = UeAtMost(r, 6, "memory_management_control_operation");
        if (op.op == 0) break;
        // The standard sets no count; each op changes one of at most 16 reference frames (or
        // all of them), so FFmpeg's bound of 66 is far above any stream that decodes.
        if (h.memoryOps.size() >= 66) throw BitstreamError("more than 66 memory management operations in one slice");
        if (op.op == 1 || op.op == 3) op.a = r.ue();
        if (op.op == 2) op.a = r.ue();
        if (op.op == 3 || op.op == 6) op.b = r.ue();
        if (op.op == 4) op.a = r.ue();
        h.memoryOps.push_back(op);
      }
    }
  }
  if (pps.cabac) UeAtMost(r, 2, "cabac_init_idc");
  // SliceQPY = 26 + pic_init_qp_minus26 + slice_qp_delta lies in -QpBdOffsetY..51.
  const int qpBdOffset = 6 * (sps.bitDepthLuma - 8);
  h.sliceQpDelta = SeWithin(r, -qpBdOffset - 26 - pps.picInitQpMinus26, 25 - pps.picInitQpMinus26, "slice_qp_delta");
  if (pps.deblockingFilterControlPresent) {
    h.hasDeblocking = true;
    h.disableDeblocking = UeAtMost(r, 2, "disable_deblocking_filter_idc");
    if (h.disableDeblocking != 1) {
      h.alphaOffset = SeWithin(r, -6, 6, "slice_alpha_c0_offset_div2");
      h.betaOffset = SeWithin(r, -6, 6, "slice_beta_offset_div2");
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
