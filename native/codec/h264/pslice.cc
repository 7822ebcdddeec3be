#include "pslice.h"

#include <algorithm>
#include <string>

namespace mvclass::h264 {

namespace {
enum Shape { kShape16x16 = 0, kShape16x8 = 1, kShape8x16 = 2, kShape8x8 = 3 };
int Median(int a, int b, int c) { return std::max(std::min(a, b), std::min(std::max(a, b), c)); }
}  // namespace

MotionField::MotionField(int widthMbs, int heightMbs)
    : widthMbs_(widthMbs), heightMbs_(heightMbs) {
  const size_t blocks = static_cast<size_t>(widthMbs) * 4 * heightMbs * 4;
  mvx_.assign(blocks, 0);
  mvy_.assign(blocks, 0);
  ref_.assign(blocks, -1);
  done_.assign(blocks, 0);
  sliceOf_.assign(static_cast<size_t>(widthMbs) * heightMbs, -1);
}

// Neighbouring location (x, y) relative to MB (mbx, mby)'s top-left luma sample (6.4.12).
MotionField::Neighbour MotionField::At(int mbx, int mby, int x, int y, int sliceId) const {
  Neighbour n;
  int nx = mbx, ny = mby;
  if (x < 0) nx--;
  if (y < 0) ny--;
  if (x > 15) {
    if (y >= 0) return n;  // right of the current MB, below its top row: not yet decoded
    nx++;
  }
  if (nx < 0 || ny < 0 || nx >= widthMbs_ || ny >= heightMbs_) return n;
  if (sliceOf_[static_cast<size_t>(ny) * widthMbs_ + nx] != sliceId) return n;
  const int bx = nx * 4 + (((x % 16) + 16) % 16) / 4;
  const int by = ny * 4 + (((y % 16) + 16) % 16) / 4;
  const size_t b = static_cast<size_t>(by) * widthMbs_ * 4 + bx;
  if (!done_[b]) return n;  // a later partition of the current MB
  n.available = true;
  n.ref = ref_[b];
  if (n.ref >= 0) {
    n.mv[0] = mvx_[b];
    n.mv[1] = mvy_[b];
  }
  return n;
}

// C, or D where C is not available (8.4.1.3.2).
MotionField::Neighbour MotionField::PartitionC(int mbx, int mby, int x, int y, int width, int sliceId) const {
  Neighbour c = At(mbx, mby, x + width, y - 1, sliceId);
  if (!c.available) c = At(mbx, mby, x - 1, y - 1, sliceId);
  return c;
}

void MotionField::Predict(int mbx, int mby, int x, int y, int width, int shape, int part, int sliceId,
                          int out[2]) const {
  Neighbour a = At(mbx, mby, x - 1, y, sliceId);
  Neighbour b = At(mbx, mby, x, y - 1, sliceId);
  Neighbour c = PartitionC(mbx, mby, x, y, width, sliceId);
  const int ref = 0;
  // Directional prediction of 16x8 and 8x16 partitions (8.4.1.3).
  const Neighbour* pick = nullptr;
  if (shape == kShape16x8) pick = part == 0 ? (b.ref == ref ? &b : nullptr) : (a.ref == ref ? &a : nullptr);
  if (shape == kShape8x16) pick = part == 0 ? (a.ref == ref ? &a : nullptr) : (c.ref == ref ? &c : nullptr);
  if (pick) {
    out[0] = pick->mv[0];
    out[1] = pick->mv[1];
    return;
  }
  // Median prediction (8.4.1.3.1).
  if (!b.available && !c.available && a.available) {
    b = a;
    c = a;
  }
  const int matches = (a.ref == ref) + (b.ref == ref) + (c.ref == ref);
  if (matches == 1) {
    const Neighbour& only = a.ref == ref ? a : (b.ref == ref ? b : c);
    out[0] = only.mv[0];
    out[1] = only.mv[1];
    return;
  }
  out[0] = Median(a.mv[0], b.mv[0], c.mv[0]);
  out[1] = Median(a.mv[1], b.mv[1], c.mv[1]);
}

void MotionField::Store(int mbx, int mby, int x, int y, int w, int h, int ref, const int mv[2]) {
  for (int by = (mby * 16 + y) / 4; by < (mby * 16 + y + h) / 4; by++) {
    for (int bx = (mbx * 16 + x) / 4; bx < (mbx * 16 + x + w) / 4; bx++) {
      const size_t b = static_cast<size_t>(by) * widthMbs_ * 4 + bx;
      ref_[b] = static_cast<int8_t>(ref);
      mvx_[b] = static_cast<int16_t>(mv[0]);
      mvy_[b] = static_cast<int16_t>(mv[1]);
      done_[b] = 1;
    }
  }
}

SliceStats MotionField::WriteSlice(BitWriter& w, const std::vector<MbMotion>& mbs, int firstMb, int endMb,
                                   int sliceId) {
  // The caller checks slices against the SPS; this guards the field's own arrays whatever it does.
  const int size = widthMbs_ * heightMbs_;
  if (firstMb < 0 || endMb > size || firstMb > endMb || mbs.size() != static_cast<size_t>(size)) {
    throw BitstreamError("slice of macroblocks " + std::to_string(firstMb) + " to " + std::to_string(endMb) +
                         " does not fit the picture of " + std::to_string(size) + " macroblocks");
  }
  SliceStats stats;
  uint32_t skipRun = 0;
  for (int addr = firstMb; addr < endMb; addr++) {
    const int mbx = addr % widthMbs_, mby = addr / widthMbs_;
    sliceOf_[addr] = sliceId;
    const MbMotion& mb = mbs[addr];

    if (mb.kind == MbKind::kIntra) {
      // I_16x16, DC prediction, no coded coefficients: intra stays intra, with no texture.
      w.ue(skipRun);
      skipRun = 0;
      w.ue(5 + 3);  // mb_type: I_16x16_2_0_0 in a P slice
      w.ue(0);      // intra_chroma_pred_mode: DC
      w.se(0);      // mb_qp_delta
      w.u(1, 1);    // coeff_token of Intra16x16DCLevel: TotalCoeff 0 (nC is 0: nothing is coded)
      const int zero[2] = {0, 0};
      Store(mbx, mby, 0, 0, 16, 16, -1, zero);
      stats.intra++;
      continue;
    }

    if (mb.kind == MbKind::k16x16) {
      // P_Skip when the vector is what the decoder would infer (8.4.1.1).
      int skip[2] = {0, 0};
      const Neighbour a = At(mbx, mby, -1, 0, sliceId);
      const Neighbour b = At(mbx, mby, 0, -1, sliceId);
      const bool zero = !a.available || !b.available || (a.ref == 0 && a.mv[0] == 0 && a.mv[1] == 0) ||
                        (b.ref == 0 && b.mv[0] == 0 && b.mv[1] == 0);
      if (!zero) Predict(mbx, mby, 0, 0, 16, kShape16x16, 0, sliceId, skip);
      if (skip[0] == mb.mv[0][0] && skip[1] == mb.mv[0][1]) {
        Store(mbx, mby, 0, 0, 16, 16, 0, skip);
        skipRun++;
        stats.skipped++;
        continue;
      }
    }

    w.ue(skipRun);
    skipRun = 0;
    stats.inter++;
    // Partition rectangles (x, y, width, height) of each macroblock type, in coding order.
    static const int kParts16x16[1][4] = {{0, 0, 16, 16}};
    static const int kParts16x8[2][4] = {{0, 0, 16, 8}, {0, 8, 16, 8}};
    static const int kParts8x16[2][4] = {{0, 0, 8, 16}, {8, 0, 8, 16}};
    static const int kParts8x8[4][4] = {{0, 0, 8, 8}, {8, 0, 8, 8}, {0, 8, 8, 8}, {8, 8, 8, 8}};
    const int(*parts)[4] = kParts16x16;
    int partCount = 1;
    int shape = kShape16x16;
    switch (mb.kind) {
      case MbKind::k16x16:
        w.ue(0);  // P_L0_16x16
        break;
      case MbKind::k16x8:
        w.ue(1);  // P_L0_L0_16x8
        parts = kParts16x8;
        partCount = 2;
        shape = kShape16x8;
        break;
      case MbKind::k8x16:
        w.ue(2);  // P_L0_L0_8x16
        parts = kParts8x16;
        partCount = 2;
        shape = kShape8x16;
        break;
      default:
        w.ue(3);  // P_8x8
        for (int i = 0; i < 4; i++) w.ue(0);  // sub_mb_type P_L0_8x8
        parts = kParts8x8;
        partCount = 4;
        shape = kShape8x8;
        break;
    }
    // ref_idx_l0 is absent (one active reference); mvd for each partition in order, each
    // predicted from the partitions already stored.
    for (int p = 0; p < partCount; p++) {
      const int* q = parts[p];
      int pred[2];
      Predict(mbx, mby, q[0], q[1], q[2], shape, p, sliceId, pred);
      const int mv[2] = {mb.mv[p][0], mb.mv[p][1]};
      w.se(mv[0] - pred[0]);
      w.se(mv[1] - pred[1]);
      Store(mbx, mby, q[0], q[1], q[2], q[3], 0, mv);
    }
    w.ue(0);  // coded_block_pattern 0 (inter mapping: codeNum 0)
  }
  if (skipRun > 0) w.ue(skipRun);
  return stats;
}

}  // namespace mvclass::h264
