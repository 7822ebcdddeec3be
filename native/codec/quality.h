// compareVideos: how far a distorted video is from its reference, frame i against frame i (display
// order), both scaled to one size in YUV 4:2:0: luma MAE and RMSE, PSNR as FFmpeg's psnr filter
// defines it (per-plane MSE; "average" from the plane-size-weighted MSE) and SSIM as its ssim
// filter does (8x8 windows on a 4x4 grid, per plane; "All" weighted by plane size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace mvclass {

struct QualityOptions {
  std::string reference;
  std::string distorted;
  int width = 0, height = 0;  // both are scaled to this (bicubic) when their size differs
  int decoderThreads = 1;
  PictureCrop referenceCrop;  // the reference's region compared (a region-of-interest re-encode's)
};

struct QualityResult {
  int width = 0, height = 0;
  int64_t referenceFrames = 0, distortedFrames = 0;
  int64_t frames = 0;  // compared: the frames both have
  double mae = 0, rmse = 0;  // luma, over every compared pixel
  double mse[3] = {0, 0, 0}, mseAverage = 0;  // mean over frames; the average weighted by plane size
  double psnr[3] = {0, 0, 0}, psnrAverage = 0;  // from the mean MSE, as FFmpeg reports it (inf for 0)
  double ssim[3] = {0, 0, 0}, ssimAll = 0;      // mean over frames
  std::vector<double> frameMae, frameRmse, framePsnr, frameSsim;  // per compared frame (PSNR/SSIM: average/All)
  std::vector<std::string> warnings;  // what the decoders logged, each naming its file
};

QualityResult CompareVideos(const QualityOptions& options);

}  // namespace mvclass
