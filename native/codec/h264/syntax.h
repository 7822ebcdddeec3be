// The parts of H.264's parameter sets and slice header (ITU-T H.264 7.3.2.1, 7.3.2.2, 7.3.3)
// that rewriting a P slice needs: parsed from the input, written back for the output.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "bits.h"

namespace mvclass::h264 {

enum NalType : int { kNalSlice = 1, kNalIdr = 5, kNalSei = 6, kNalSps = 7, kNalPps = 8, kNalAud = 9 };

// The standard's limits that bound every allocation and index made from a parameter set.
// Picture size: the largest level of Table A-1 (6.2): MaxFS 139264 macroblocks, and no side
// longer than Sqrt(8 * MaxFS) = 1055 macroblocks. The level a stream declares is not enforced
// on top of that: encoders mislabel it, and FFmpeg decodes such streams.
constexpr int kMaxFrameSizeMbs = 139264;
constexpr int kMaxSideMbs = 1055;
constexpr int kMaxSpsId = 31;
constexpr int kMaxPpsId = 255;
constexpr int kMaxRefIdx = 32;  // num_ref_idx_lX_active_minus1 + 1 (fields; frames use 16)

struct Sps {
  int id = 0;
  int profile = 0;
  int bitDepthLuma = 8;
  int chromaFormat = 1;
  bool separateColourPlane = false;
  int log2MaxFrameNum = 4;
  int pocType = 0;
  int log2MaxPocLsb = 4;
  bool deltaPicOrderAlwaysZero = false;
  bool frameMbsOnly = true;
  int widthMbs = 0, heightMbs = 0;  // heightMbs is FrameHeightInMbs (map units x 2 for fields)
  int sizeMbs() const { return widthMbs * heightMbs; }
};

struct Pps {
  int id = 0;
  int spsId = 0;
  bool cabac = false;
  bool bottomFieldPicOrderPresent = false;
  int sliceGroups = 1;
  int numRefIdxL0Default = 1, numRefIdxL1Default = 1;
  bool weightedPred = false;
  int weightedBipredIdc = 0;
  int picInitQpMinus26 = 0, picInitQsMinus26 = 0;
  int chromaQpIndexOffset = 0, secondChromaQpIndexOffset = 0;
  bool deblockingFilterControlPresent = false;
  bool constrainedIntraPred = false;
  bool redundantPicCntPresent = false;
  bool transform8x8 = false;
};

Sps ParseSps(const std::vector<uint8_t>& rbsp);
Pps ParsePps(const std::vector<uint8_t>& rbsp, const std::map<int, Sps>& spsById);
// The PPS of the rewritten P slices: the input's, with CAVLC, no weighted prediction, one
// reference by default, no 8x8 transform and no scaling lists (no residual is coded).
std::vector<uint8_t> WriteCavlcPps(const Pps& source, int newId);

struct MemoryOp {
  uint32_t op = 0, a = 0, b = 0;
};

struct SliceHeader {
  int firstMb = 0;
  int sliceType = 0;  // 0..9; % 5: 0 P, 1 B, 2 I, 3 SP, 4 SI
  int ppsId = 0;
  uint32_t frameNum = 0;
  uint32_t pocLsb = 0;
  int32_t deltaPocBottom = 0;
  int32_t deltaPoc[2] = {0, 0};
  uint32_t redundantPicCnt = 0;
  bool adaptiveMarking = false;
  std::vector<MemoryOp> memoryOps;
  int32_t sliceQpDelta = 0;
  bool hasDeblocking = false;
  uint32_t disableDeblocking = 0;
  int32_t alphaOffset = 0, betaOffset = 0;
  int kind() const { return sliceType % 5; }
};

// Parses a non-IDR slice header (nal_unit_type 1) far enough to rewrite it.
SliceHeader ParseSliceHeader(BitReader& r, int nalRefIdc, const std::map<int, Sps>& spsById,
                             const std::map<int, Pps>& ppsById);
// Writes a P slice header that refers to the CAVLC PPS `ppsId` and uses one reference.
void WriteSliceHeader(BitWriter& w, const SliceHeader& h, int nalRefIdc, const Sps& sps,
                      const Pps& pps, int ppsId);

}  // namespace mvclass::h264
