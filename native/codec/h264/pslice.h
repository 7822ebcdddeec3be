// Writes the slice data of a P slice with the given partitions and motion vectors and no
// residual at all (CAVLC, coded_block_pattern 0), predicting vectors as the decoder will:
// median / directional prediction (ITU-T H.264 8.4.1.3) and P_Skip inference (8.4.1.1).
#pragma once

#include <cstdint>
#include <vector>

#include "bits.h"

namespace mvclass::h264 {

enum class MbKind : uint8_t { kIntra, k16x16, k16x8, k8x16, k8x8 };

struct MbMotion {
  MbKind kind = MbKind::kIntra;
  // Quarter-pel vectors per partition: 16x16 [0]; 16x8 top, bottom; 8x16 left, right;
  // 8x8 in raster order.
  int16_t mv[4][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
};

struct SliceStats {
  int skipped = 0, inter = 0, intra = 0;
};

// The motion field of one picture at 4x4 granularity, shared by the slices of the picture.
class MotionField {
 public:
  MotionField(int widthMbs, int heightMbs);
  // Appends slice data for MBs [firstMb, endMb) of `mbs` (all MBs of the picture) to `w`.
  SliceStats WriteSlice(BitWriter& w, const std::vector<MbMotion>& mbs, int firstMb, int endMb, int sliceId);

 private:
  struct Neighbour {
    bool available = false;
    int ref = -1;
    int mv[2] = {0, 0};
  };
  Neighbour At(int mbx, int mby, int x, int y, int sliceId) const;
  Neighbour PartitionC(int mbx, int mby, int x, int y, int width, int sliceId) const;
  void Predict(int mbx, int mby, int x, int y, int width, int shape, int part, int sliceId, int out[2]) const;
  void Store(int mbx, int mby, int x, int y, int w, int h, int ref, const int mv[2]);

  int widthMbs_, heightMbs_;
  std::vector<int16_t> mvx_, mvy_;  // per 4x4 block
  std::vector<int8_t> ref_;          // -1 intra, 0 inter
  std::vector<uint8_t> done_;        // 4x4 block written (for neighbours inside the current MB)
  std::vector<int> sliceOf_;         // per MB, -1 before it is written
};

}  // namespace mvclass::h264
