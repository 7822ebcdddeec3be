// MotionGrid: motion vectors placed on a grid of non-overlapping square blocks, the input
// representation of the rate-accuracy paper (8x8 blocks, holes filled from their 4-neighbours;
// Jubran et al., "Rate-Accuracy Trade-Off in Video Classification With Deep Convolutional Neural
// Networks", IEEE TCSVT, 2020).
#pragma once

#include <cstdint>
#include <vector>

namespace mvclass {

struct GridSpec {
  int width = 0;        // frame width in pixels
  int height = 0;       // frame height in pixels
  int block = 8;        // block edge in pixels
  int source = -1;      // which prediction list fills the grid: -1 list 0 (past), 1 list 1
  bool quarterPel = false;  // int16 quarter-pels instead of float32 pixels
  // HEVC's rule: a block takes the vector of the prediction block covering its top-left pixel
  // (its top-left 4x4), not the area-weighted mean of the blocks inside it.
  bool topLeft = false;

  int cols() const { return (width + block - 1) / block; }
  int rows() const { return (height + block - 1) / block; }
  int cells() const { return cols() * rows(); }
};

// Mask values, one byte per block.
enum GridMask : uint8_t { kHole = 0, kCoded = 1, kFilled = 2 };

// Accumulates one frame's vectors. Each vector adds to every block its partition overlaps,
// weighted by the overlapping area, so a block covered by one partition (every H.264 and
// MPEG-4 partition on the 8x8 grid) takes that partition's vector exactly and a larger block
// takes the area-weighted mean of the partitions inside it. With `topLeft` (HEVC, whose 8x4,
// 4x8 and asymmetric prediction blocks can split an 8x8 block) the block takes the vector of
// the prediction block that covers its top-left pixel.
class GridAccumulator {
 public:
  void Reset(const GridSpec& spec);
  // motion = src - dst in units of 1/scale pixel, as FFmpeg's AVMotionVector carries it.
  //
  // Partitions are clipped to the width x height picture. A macroblock of the partly visible
  // last row or column (1080p H.264: rows 1072-1087, of which 1072-1079 are shown) adds its
  // vector to the blocks of its visible part, so it lands in the grid's last row or column;
  // a partition wholly inside the coded padding (an 8x8 at rows 1080-1087) is dropped. That is
  // what a consumer of extract_mvs expects: dst is the partition's centre (dst_y 1080 for that
  // macroblock), and dst / 8 would index a 136th row that the picture does not have.
  void Add(int source, int w, int h, int dstX, int dstY, int motionX, int motionY, int scale);
  // Writes dx then dy planes (rows x cols each) and the mask. A block without vectors whose
  // 4-neighbours include two or more coded blocks takes their mean (mask kFilled); other empty
  // blocks stay zero (mask kHole).
  void Finish(float* dx, float* dy, uint8_t* mask);
  void Finish(int16_t* dx, int16_t* dy, uint8_t* mask);

 private:
  template <typename T>
  void FinishAs(T* dx, T* dy, uint8_t* mask);

  GridSpec spec_;
  std::vector<double> sumX_, sumY_, weight_;  // quarter-pels times area, and area
  std::vector<double> meanX_, meanY_;          // scratch for Finish, kept to avoid reallocating
};

}  // namespace mvclass
