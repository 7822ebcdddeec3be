// Layers with CPU kernels of their own, where libtorch 1.13's generic ones cost most of a
// training step. mv3d's: the max-pool (kernel 2x2x2, stride 2, ceil mode, no padding) and the
// backward of the PReLU with one shared weight; each gives libtorch's values, indices and
// gradients exactly, so training is bit for bit what it was with libtorch's ops
// (test/nn/layers.test.ts). At the demo's settings (batch 16, 64 frames, 24x24, width 1/4, one
// thread), libtorch's max_pool3d forward was 21.6% of a step's CPU and PReLU's backward 9.9%.
// x3d-s's: the depthwise 3D convolution, equal to libtorch's up to rounding (see kernels.cc).
#pragma once

#include <torch/torch.h>

#include <array>

namespace mvclass::nn {

// [N, C, T, H, W] -> [N, C, ceil(T/2), ceil(H/2), ceil(W/2)], differentiable. Float32 contiguous
// CPU tensors take the kernel; any other tensor (a GPU's, bf16, channels-last) takes libtorch's
// max_pool3d with the same options.
torch::Tensor MaxPool2x2x2(const torch::Tensor& x);

struct MaxPool2x2x2LayerImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return MaxPool2x2x2(x); }
};
TORCH_MODULE(MaxPool2x2x2Layer);

// conv3d with groups = channels, weight [C, 1, KT, KH, KW], no bias, dilation 1; differentiable.
// Float32 contiguous CPU tensors take the kernel; any other (a GPU's, bf16) takes libtorch's conv3d.
torch::Tensor DepthwiseConv3d(const torch::Tensor& x, const torch::Tensor& weight, std::array<int64_t, 3> stride, std::array<int64_t, 3> padding);

// PReLU with one weight for every channel (torch::nn::PReLU's default): libtorch's forward; on a
// float32 CPU tensor, a backward of its own. Same parameter name ("weight") and start (0.25) as
// torch::nn::PReLU, so checkpoints and the optimiser's parameter order are unchanged.
torch::Tensor SharedPReLU(const torch::Tensor& x, const torch::Tensor& weight);

struct SharedPReLULayerImpl : torch::nn::Module {
  SharedPReLULayerImpl() { weight = register_parameter("weight", torch::full({1}, 0.25)); }
  torch::Tensor forward(const torch::Tensor& x) { return SharedPReLU(x, weight); }
  torch::Tensor weight;
};
TORCH_MODULE(SharedPReLULayer);

}  // namespace mvclass::nn
