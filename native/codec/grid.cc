#include "grid.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mvclass {

void GridAccumulator::Reset(const GridSpec& spec) {
  spec_ = spec;
  const size_t cells = static_cast<size_t>(spec.cells());
  sumX_.assign(cells, 0.0);
  sumY_.assign(cells, 0.0);
  weight_.assign(cells, 0.0);
}

void GridAccumulator::Add(int source, int w, int h, int dstX, int dstY, int motionX, int motionY,
                          int scale) {
  if (source != spec_.source || w <= 0 || h <= 0 || scale <= 0) return;
  // FFmpeg puts dst at the partition centre: dst = top-left + size / 2.
  const int x0 = dstX - w / 2, y0 = dstY - h / 2;
  const int x1 = std::min(x0 + w, spec_.width), y1 = std::min(y0 + h, spec_.height);
  const int cx0 = std::max(x0, 0), cy0 = std::max(y0, 0);
  if (cx0 >= x1 || cy0 >= y1) return;
  const double qx = motionX * 4.0 / scale, qy = motionY * 4.0 / scale;
  const int b = spec_.block, cols = spec_.cols();
  for (int by = cy0 / b; by * b < y1; by++) {
    const int oy = std::min(y1, (by + 1) * b) - std::max(cy0, by * b);
    for (int bx = cx0 / b; bx * b < x1; bx++) {
      const int ox = std::min(x1, (bx + 1) * b) - std::max(cx0, bx * b);
      const size_t cell = static_cast<size_t>(by) * cols + bx;
      if (spec_.topLeft) {
        // Only the prediction block holding the block's top-left pixel counts, with weight 1.
        if (bx * b < x0 || by * b < y0) continue;
        sumX_[cell] = qx;
        sumY_[cell] = qy;
        weight_[cell] = 1;
        continue;
      }
      const double area = static_cast<double>(ox) * oy;
      sumX_[cell] += qx * area;
      sumY_[cell] += qy * area;
      weight_[cell] += area;
    }
  }
}

namespace {
inline float Convert(double quarterPels, float*) { return static_cast<float>(quarterPels / 4.0); }
inline int16_t Convert(double quarterPels, int16_t*) {
  const double r = std::nearbyint(quarterPels);
  return static_cast<int16_t>(std::clamp(r, static_cast<double>(std::numeric_limits<int16_t>::min()),
                                         static_cast<double>(std::numeric_limits<int16_t>::max())));
}
}  // namespace

template <typename T>
void GridAccumulator::FinishAs(T* dx, T* dy, uint8_t* mask) {
  const int cols = spec_.cols(), rows = spec_.rows();
  meanX_.assign(sumX_.size(), 0.0);
  meanY_.assign(sumY_.size(), 0.0);
  std::vector<double>& meanX = meanX_;
  std::vector<double>& meanY = meanY_;
  for (size_t i = 0; i < weight_.size(); i++) {
    if (weight_[i] > 0) {
      meanX[i] = sumX_[i] / weight_[i];
      meanY[i] = sumY_[i] / weight_[i];
    }
  }
  for (int y = 0; y < rows; y++) {
    for (int x = 0; x < cols; x++) {
      const size_t i = static_cast<size_t>(y) * cols + x;
      double vx = 0, vy = 0;
      uint8_t m = kHole;
      if (weight_[i] > 0) {
        vx = meanX[i];
        vy = meanY[i];
        m = kCoded;
      } else {
        // Only coded neighbours count, so filling never propagates across a frame.
        const int nx[4] = {x - 1, x + 1, x, x};
        const int ny[4] = {y, y, y - 1, y + 1};
        int n = 0;
        double sx = 0, sy = 0;
        for (int k = 0; k < 4; k++) {
          if (nx[k] < 0 || ny[k] < 0 || nx[k] >= cols || ny[k] >= rows) continue;
          const size_t j = static_cast<size_t>(ny[k]) * cols + nx[k];
          if (weight_[j] > 0) {
            sx += meanX[j];
            sy += meanY[j];
            n++;
          }
        }
        if (n >= 2) {
          vx = sx / n;
          vy = sy / n;
          m = kFilled;
        }
      }
      dx[i] = Convert(vx, dx);
      dy[i] = Convert(vy, dy);
      mask[i] = m;
    }
  }
}

void GridAccumulator::Finish(float* dx, float* dy, uint8_t* mask) { FinishAs(dx, dy, mask); }
void GridAccumulator::Finish(int16_t* dx, int16_t* dy, uint8_t* mask) { FinishAs(dx, dy, mask); }

}  // namespace mvclass
