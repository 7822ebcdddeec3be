// The three networks of the rate-accuracy paper (Jubran et al., "Rate-Accuracy Trade-Off in Video
// Classification With Deep Convolutional Neural Networks", IEEE TCSVT, 2020), with torch::nn:
//   mv3d  - the 3D temporal CNN on [B, 2, T, N, N] motion volumes (T = 160, N = 24);
//   mv2d  - the ClarifaiNet-like 2D temporal CNN on [B, 2T, N, N] (T = 60, N = 48), first
//           filter 3x3 and stride 1 in the first two convolutions;
//   vgg16 - the spatial stream on the key frame, with torchvision's layout and parameter names
//           (features.N / classifier.N) so that its weights can be imported; a width multiplier
//           and an input size make it trainable on a CPU;
//   resnet18/34/50/101/152 - torchvision's ResNets (v1.5), frame networks like vgg16, with
//           its parameter and buffer names and the same width multiplier;
//   cnn-lstm - a clip network (seeds 000/001): a ResNet backbone per frame, fully connected
//           layers, an LSTM over the frames and a fully connected head on its last step;
//   x3d-s  - X3D-S, a 3D network on RGB clips [B, T, 3, S, S] in pytorchvideo's layout and names
//           (x3d.cc), with the same width multiplier.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace mvclass::nn {

struct ModelSpec {
  std::string name;        // mv3d | mv2d | vgg16 | resnet18 | resnet34 | resnet50 | resnet101 | resnet152 | cnn-lstm | x3d-s
  int classes = 2;
  int frames = 160;        // T (mv3d, mv2d, the clip networks)
  int size = 24;           // N: input side
  double width = 1.0;      // channel multiplier (vgg16, the resnets, the clip networks, and mv2d/mv3d for small runs)
  int fc = 2048;           // hidden units of the first two fully connected layers (none in a resnet; cnn-lstm: its first; x3d-s: its head's)
  std::string backbone = "resnet18";  // cnn-lstm: the ResNet applied to each frame
};

// A network is a torch::nn::Module with a forward(x) giving class scores (logits).
class Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // The input shape without the batch dimension.
  virtual std::vector<int64_t> inputShape() const = 0;
  // The module of the class-score layer: the one layer whose shape follows the class count, so
  // importing weights trained on other classes skips it (and nothing else) when shapes differ.
  virtual std::string headName() const { return "classifier.6"; }
  // The prefix (with its dot) under which the network holds a torchvision ResNet without its fc
  // ("" when none): a torchvision resnet state dict imports into it (ImportWeights).
  virtual std::string backbonePrefix() const { return ""; }
  // Whether the parameter, buffer or module (its name with a trailing dot) of this name is in the
  // backbone: what fine-tuning takes from a trained network (train --init / --weights) and what a
  // backbone learning-rate factor slows or freezes. Under backbonePrefix() where the network has
  // one (cnn-lstm's ResNet), else everything but the class-score layer headName() (a resnet's fc,
  // x3d-s's projection, the paper networks' last linear layer). The one home of this rule.
  bool inBackbone(const std::string& name) const;
};

bool IsResNet(const std::string& name);

// `channels` times the width multiplier, rounded, at least 4: how every network narrows.
int Scaled(int channels, double width);

// X3D-S (x3d.cc) and the pieces of it that tests check against a reference through ApplyLayer.
std::shared_ptr<Network> MakeX3d(const ModelSpec& spec, const at::Generator& dropout);
// x * sigmoid(x).
torch::Tensor Swish(const torch::Tensor& x);
// Squeeze-excitation on [B, C, T, H, W]: x times sigmoid(expand(relu(reduce(mean over T, H, W)))),
// reduce and expand being 1x1x1 convolutions with biases.
torch::Tensor SqueezeExcite(const torch::Tensor& x, const torch::Tensor& reduceWeight, const torch::Tensor& reduceBias,
                            const torch::Tensor& expandWeight, const torch::Tensor& expandBias);
// A bias-free depthwise 3D convolution (one filter per channel), 'same' padding for odd kernels.
torch::nn::Conv3dOptions DepthwiseConv3dOptions(int channels, std::vector<int64_t> kernel, std::vector<int64_t> stride);
// pytorchvideo's round_width(width, multiplier): a multiple of 8, at least 8.
int X3dRoundWidth(double width, double multiplier);

// Dropout whose masks come from a given generator (its session's) instead of Torch's global one.
// The same computation as torch::nn::Dropout on the CPU (a Bernoulli(1 - p) mask divided by
// 1 - p), so a seeded model draws what it drew before generators were per session.
class SeededDropoutImpl : public torch::nn::Module {
 public:
  SeededDropoutImpl(double p, at::Generator generator) : p_(p), generator_(std::move(generator)) {}
  torch::Tensor forward(torch::Tensor x);

 private:
  double p_;
  at::Generator generator_;
};
TORCH_MODULE(SeededDropout);

// Builds the network; its dropout layers draw from `dropout` (a generator of the device it will
// run on). The initial weights come from Torch's global CPU generator (torch::nn's layers have no
// other source): Session lends it its own generator's state while this runs.
std::shared_ptr<Network> MakeNetwork(const ModelSpec& spec, const at::Generator& dropout);

// He initialisation of every convolution and linear layer (linear layers from N(0, linearStd)
// instead when linearStd > 0), zero biases.
void HeInitialise(torch::nn::Module& module, double linearStd = 0);

}  // namespace mvclass::nn
