// X3D-S (Feichtenhofer, "X3D: Expanding Architectures for Efficient Video Recognition", CVPR
// 2020), a 3D RGB network of seed 003's family, in pytorchvideo's layout (create_x3d) and with its
// parameter and buffer names, so that a state dict saved from pytorchvideo's x3d_s imports by name:
//   blocks.0             stem: conv.conv_t (1x3x3, 3 -> 24, spatial stride 2), conv.conv_xy (5x1x1
//                        depthwise, temporal), norm, ReLU. pytorchvideo builds its stem's
//                        Conv2plus1d with the spatial convolution under the name conv_t and the
//                        temporal one under conv_xy (and runs conv_t first); the names here follow
//                        its files, not the words.
//   blocks.1-4           stages of 3, 5, 11, 7 residual blocks (X3D-S: depth factor 2.2 on 1, 2, 5,
//                        3), width 24, 48, 96, 192, inner width int(2.25 x width); each
//                        res_blocks.N has branch1_conv (+ branch1_norm when the width changes) on
//                        its first block, and branch2: conv_a 1x1x1, norm_a, ReLU, conv_b 3x3x3
//                        depthwise (the first block strides 2 in space), norm_b.0, squeeze-
//                        excitation norm_b.1.block.{0,2} on blocks 0, 2, 4, ... (reduced width:
//                        pytorchvideo's round_width(inner, 1/16)), Swish, conv_c 1x1x1, norm_c;
//                        the sum, ReLU.
//   blocks.5             head: pool.pre_conv 1x1x1 to 432 (the last inner width), pool.pre_norm,
//                        ReLU, global average pooling, pool.post_conv 1x1x1 to 2048 (fc), ReLU,
//                        dropout 0.5, proj (linear to the classes).
// Every convolution but squeeze-excitation's is bias-free and followed by batch norm. The two
// depthwise ones (conv_xy, conv_b) keep their torch::nn::Conv3d modules for the weights' names
// and initialisation, and run on kernels.h's DepthwiseConv3d. The input
// is the project's clip layout [B, T, 3, S, S], permuted to [B, 3, T, S, S] inside forward.
// pytorchvideo's head pools with a fixed (T, S/32, S/32) kernel, which is the global average at
// its input size (13 x 160 x 160); here the pooling is global for any size. Its softmax (no
// parameters) is left out: forward gives logits like the other networks. `width` scales every
// channel count but the head's 2048 (fc) and the stem input's 3; depths stay X3D-S's.
#include "models.h"

#include "kernels.h"

#include <array>
#include <cmath>

namespace mvclass::nn {

torch::Tensor Swish(const torch::Tensor& x) { return x * torch::sigmoid(x); }

torch::Tensor SqueezeExcite(const torch::Tensor& x, const torch::Tensor& reduceWeight, const torch::Tensor& reduceBias,
                            const torch::Tensor& expandWeight, const torch::Tensor& expandBias) {
  // Squeeze: the mean over time and space per channel; excite: 1x1x1 conv, ReLU, 1x1x1 conv, sigmoid;
  // each channel of x scaled by its gate.
  torch::Tensor s = x.mean({2, 3, 4}, /*keepdim=*/true);
  s = torch::conv3d(s, reduceWeight, reduceBias).relu_();
  return x * torch::conv3d(s, expandWeight, expandBias).sigmoid_();
}

namespace {
// A depthwise convolution's padding: half its kernel on each side (the size kept at stride 1).
std::array<int64_t, 3> HalfKernel(const torch::ExpandingArray<3>& kernel) { return {(*kernel)[0] / 2, (*kernel)[1] / 2, (*kernel)[2] / 2}; }
}  // namespace

torch::nn::Conv3dOptions DepthwiseConv3dOptions(int channels, std::vector<int64_t> kernel, std::vector<int64_t> stride) {
  const std::array<int64_t, 3> padding = HalfKernel(torch::ExpandingArray<3>(kernel));
  return torch::nn::Conv3dOptions(channels, channels, torch::ExpandingArray<3>(kernel))
      .stride(torch::ExpandingArray<3>(stride))
      .padding(torch::ExpandingArray<3>(padding))
      .groups(channels)
      .bias(false);
}

int X3dRoundWidth(double width, double multiplier) {
  // pytorchvideo's round_width (min width 8, divisor 8): the nearest multiple of 8, not below 8,
  // one step up when that falls under 90% of the product.
  constexpr int kDivisor = 8, kMinWidth = 8;
  const double w = width * multiplier;
  int out = std::max(kMinWidth, static_cast<int>(w + kDivisor / 2.0) / kDivisor * kDivisor);
  if (out < 0.9 * w) out += kDivisor;
  return out;
}

namespace {

// A convolution made with DepthwiseConv3dOptions, run on kernels.h's DepthwiseConv3d with its
// weight, stride and padding.
torch::Tensor RunDepthwise(const torch::nn::Conv3d& conv, const torch::Tensor& x) {
  const auto& stride = *conv->options.stride();
  return DepthwiseConv3d(x, conv->weight, {stride[0], stride[1], stride[2]}, HalfKernel(conv->options.kernel_size()));
}

torch::nn::Conv3d PointwiseConv(int in, int out, int stride = 1) {
  return torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, 1).stride({1, stride, stride}).bias(false));
}

// pytorchvideo's Conv2plus1d as X3D's stem uses it: conv_t (the spatial 1x3x3) then conv_xy (the
// depthwise 5x1x1), nothing between.
class StemConvImpl : public torch::nn::Module {
 public:
  StemConvImpl(int out)
      : conv_t(register_module("conv_t", torch::nn::Conv3d(torch::nn::Conv3dOptions(3, out, {1, 3, 3}).stride({1, 2, 2}).padding({0, 1, 1}).bias(false)))),
        conv_xy(register_module("conv_xy", torch::nn::Conv3d(DepthwiseConv3dOptions(out, {5, 1, 1}, {1, 1, 1})))) {}
  torch::Tensor forward(torch::Tensor x) { return RunDepthwise(conv_xy, conv_t->forward(x)); }

  torch::nn::Conv3d conv_t, conv_xy;
};
TORCH_MODULE(StemConv);

class StemImpl : public torch::nn::Module {
 public:
  explicit StemImpl(int out)
      : conv(register_module("conv", StemConv(out))), norm(register_module("norm", torch::nn::BatchNorm3d(out))) {}
  torch::Tensor forward(torch::Tensor x) { return norm->forward(conv->forward(x)).relu_(); }

  StemConv conv;
  torch::nn::BatchNorm3d norm;
};
TORCH_MODULE(Stem);

// fvcore's SqueezeExcitation (3D) as pytorchvideo uses it: `block` holds conv 0 (reduce) and conv 2
// (expand) between which ReLU and after which the sigmoid sit; no parameters in 1 and 3.
class SqueezeExcitationImpl : public torch::nn::Module {
 public:
  SqueezeExcitationImpl(int channels, int reduced) {
    block = register_module("block", torch::nn::Sequential(torch::nn::Conv3d(torch::nn::Conv3dOptions(channels, reduced, 1)), torch::nn::ReLU(),
                                                            torch::nn::Conv3d(torch::nn::Conv3dOptions(reduced, channels, 1)), torch::nn::Sigmoid()));
    reduce = block[0]->as<torch::nn::Conv3d>();
    expand = block[2]->as<torch::nn::Conv3d>();
  }
  torch::Tensor forward(torch::Tensor x) { return SqueezeExcite(x, reduce->weight, reduce->bias, expand->weight, expand->bias); }

  torch::nn::Sequential block{nullptr};
  torch::nn::Conv3dImpl* reduce = nullptr;
  torch::nn::Conv3dImpl* expand = nullptr;
};
TORCH_MODULE(SqueezeExcitation);

// The bottleneck (branch2): 1x1x1, BN, ReLU; 3x3x3 depthwise, BN, [SE], Swish; 1x1x1, BN.
class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int in, int inner, int out, int stride, int seReduced)
      : conv_a(register_module("conv_a", PointwiseConv(in, inner))),
        norm_a(register_module("norm_a", torch::nn::BatchNorm3d(inner))),
        conv_b(register_module("conv_b", torch::nn::Conv3d(DepthwiseConv3dOptions(inner, {3, 3, 3}, {1, stride, stride})))),
        conv_c(register_module("conv_c", PointwiseConv(inner, out))),
        norm_c(register_module("norm_c", torch::nn::BatchNorm3d(out))) {
    // norm_b is pytorchvideo's nn.Sequential(BatchNorm3d, SqueezeExcitation or Identity).
    torch::nn::Sequential normB;
    normB->push_back(torch::nn::BatchNorm3d(inner));
    if (seReduced > 0) normB->push_back(SqueezeExcitation(inner, seReduced));
    else normB->push_back(torch::nn::Identity());
    norm_b = register_module("norm_b", normB);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = norm_a->forward(conv_a->forward(x)).relu_();
    x = Swish(norm_b->forward(RunDepthwise(conv_b, x)));
    return norm_c->forward(conv_c->forward(x));
  }

  torch::nn::Conv3d conv_a;
  torch::nn::BatchNorm3d norm_a;
  torch::nn::Conv3d conv_b;  // run by RunDepthwise
  torch::nn::Sequential norm_b{nullptr};
  torch::nn::Conv3d conv_c;
  torch::nn::BatchNorm3d norm_c;
};
TORCH_MODULE(Bottleneck);

// pytorchvideo's ResBlock: shortcut (identity, or branch1_conv strided 1x1x1 with branch1_norm
// only when the width changes, as create_x3d_res_block builds it) + branch2, then ReLU.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int in, int inner, int out, int stride, int seReduced)
      : branch2(register_module("branch2", Bottleneck(in, inner, out, stride, seReduced))) {
    if (in != out || stride > 1) branch1_conv = register_module("branch1_conv", PointwiseConv(in, out, stride));
    if (in != out) branch1_norm = register_module("branch1_norm", torch::nn::BatchNorm3d(out));
  }
  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor shortcut = x;
    if (branch1_conv) shortcut = branch1_conv->forward(x);
    if (branch1_norm) shortcut = branch1_norm->forward(shortcut);
    return branch2->forward(x).add_(shortcut).relu_();
  }

  torch::nn::Conv3d branch1_conv{nullptr};
  torch::nn::BatchNorm3d branch1_norm{nullptr};
  Bottleneck branch2;
};
TORCH_MODULE(ResBlock);

class StageImpl : public torch::nn::Module {
 public:
  StageImpl(int depth, int in, int inner, int out) {
    for (int b = 0; b < depth; b++) {
      // Squeeze-excitation on every other block, from the first; the first block strides.
      const int se = b % 2 == 0 ? X3dRoundWidth(inner, 1.0 / 16) : 0;
      blocks_.push_back(ResBlock(b == 0 ? in : out, inner, out, b == 0 ? 2 : 1, se));
      res_blocks->push_back(blocks_.back());
    }
    register_module("res_blocks", res_blocks);
  }
  torch::Tensor forward(torch::Tensor x) {
    for (auto& block : blocks_) x = block->forward(x);
    return x;
  }

  torch::nn::ModuleList res_blocks;

 private:
  std::vector<ResBlock> blocks_;
};
TORCH_MODULE(Stage);

// pytorchvideo's ProjectedPool without its fixed-kernel pooling: pre_conv, pre_norm, ReLU, global
// average, post_conv, ReLU.
class ProjectedPoolImpl : public torch::nn::Module {
 public:
  ProjectedPoolImpl(int in, int inner, int out)
      : pre_conv(register_module("pre_conv", PointwiseConv(in, inner))),
        pre_norm(register_module("pre_norm", torch::nn::BatchNorm3d(inner))),
        post_conv(register_module("post_conv", PointwiseConv(inner, out))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = pre_norm->forward(pre_conv->forward(x)).relu_();
    x = torch::adaptive_avg_pool3d(x, {1, 1, 1});
    return post_conv->forward(x).relu_();
  }

  torch::nn::Conv3d pre_conv;
  torch::nn::BatchNorm3d pre_norm;
  torch::nn::Conv3d post_conv;
};
TORCH_MODULE(ProjectedPool);

class HeadImpl : public torch::nn::Module {
 public:
  HeadImpl(int in, int inner, int out, int classes, const at::Generator& generator)
      : pool(register_module("pool", ProjectedPool(in, inner, out))),
        dropout(register_module("dropout", SeededDropout(0.5, generator))),
        proj(register_module("proj", torch::nn::Linear(out, classes))) {}
  torch::Tensor forward(torch::Tensor x) { return proj->forward(dropout->forward(pool->forward(x).flatten(1))); }

  ProjectedPool pool;
  SeededDropout dropout;
  torch::nn::Linear proj;
};
TORCH_MODULE(Head);

class X3d : public Network {
 public:
  X3d(const ModelSpec& s, const at::Generator& generator) : spec_(s) {
    constexpr int kDepths[4] = {3, 5, 11, 7};
    constexpr int kWidths[4] = {24, 48, 96, 192};
    constexpr double kBottleneck = 2.25;
    int in = Scaled(24, s.width);
    stem_ = Stem(in);
    blocks->push_back(stem_);
    int inner = 0;
    for (int i = 0; i < 4; i++) {
      const int out = Scaled(kWidths[i], s.width);
      inner = static_cast<int>(kBottleneck * out);
      stages_.push_back(Stage(kDepths[i], in, inner, out));
      blocks->push_back(stages_.back());
      in = out;
    }
    head_ = Head(in, inner, s.fc, s.classes, generator);
    blocks->push_back(head_);
    register_module("blocks", blocks);
    // pytorchvideo's initialisation (init_net_weights, "resnet" style): He's normal rule with fan-out
    // for every convolution (zero biases), batch norm as the identity, the projection from
    // N(0, 0.01) with a zero bias; except that each residual branch's last batch norm (norm_c)
    // starts with a zero scale, so that each of the 26 blocks starts as its shortcut (the zero-gamma
    // start of Goyal et al., "Accurate, Large Minibatch SGD", 2017; an option of SlowFast's
    // ResNets, RESNET.ZERO_INIT_FINAL_BN). With unit scales the same network from scratch fitted half of its
    // training clips in 400 Adam steps on real footage; with zero scales, most of them
    // (docs/training.md, "X3D-S from scratch"). Imported weights replace all of it.
    torch::NoGradGuard noGrad;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* conv = m->as<torch::nn::Conv3d>()) {
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
        if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
      } else if (auto* bn = m->as<torch::nn::BatchNorm3d>()) {
        torch::nn::init::ones_(bn->weight);
        torch::nn::init::zeros_(bn->bias);
      } else if (auto* linear = m->as<torch::nn::Linear>()) {
        torch::nn::init::normal_(linear->weight, 0.0, 0.01);
        torch::nn::init::zeros_(linear->bias);
      }
    }
    // After the loop above, which visits a block before its batch norms.
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* bottleneck = m->as<BottleneckImpl>()) torch::nn::init::zeros_(bottleneck->norm_c->weight);
    }
  }
  torch::Tensor forward(torch::Tensor x) override {
    x = stem_->forward(x.permute({0, 2, 1, 3, 4}).contiguous());
    for (auto& stage : stages_) x = stage->forward(x);
    return head_->forward(x);
  }
  std::vector<int64_t> inputShape() const override { return {spec_.frames, 3, spec_.size, spec_.size}; }
  std::string headName() const override { return "blocks.5.proj"; }

  torch::nn::ModuleList blocks;

 private:
  ModelSpec spec_;
  Stem stem_{nullptr};
  std::vector<Stage> stages_;
  Head head_{nullptr};
};

}  // namespace

std::shared_ptr<Network> MakeX3d(const ModelSpec& spec, const at::Generator& dropout) { return std::make_shared<X3d>(spec, dropout); }

}  // namespace mvclass::nn
