#include "models.h"

#include "kernels.h"

#include <cmath>
#include <stdexcept>

namespace mvclass::nn {

int Scaled(int channels, double width) { return std::max(4, static_cast<int>(std::lround(channels * width))); }

namespace {

// The paper's dropout on the first two fully connected layers (mv3d keeps it; vgg16 has its own).
constexpr double kPaperDropout = 0.5;
// mv2d's: none. With the paper's 0.5 on its 4096-wide head, mv2d did not even fit the real-footage
// set's training clips in a CPU budget (80 iterations: held-out 22-30% over three seeds, chance
// 16.7%); without it, 33-43% (last checkpoint) over six seeds, nothing else changed
// (docs/training.md, "Why mv2d learnt slowly"). The paper's 90k iterations are another regime.
// The dropout modules stay (no parameters, so checkpoints keep their names); at p = 0 they draw nothing.
constexpr double kMv2dDropout = 0.0;

// Fully connected head: two hidden layers, each followed by dropout, then the classes.
torch::nn::Sequential Head(int64_t in, int fc, int classes, bool prelu, double dropout, const at::Generator& generator) {
  torch::nn::Sequential head;
  head->push_back(torch::nn::Linear(in, fc));
  if (prelu) head->push_back(SharedPReLULayer());
  else head->push_back(torch::nn::ReLU());
  head->push_back(SeededDropout(dropout, generator));
  head->push_back(torch::nn::Linear(fc, fc));
  if (prelu) head->push_back(SharedPReLULayer());
  else head->push_back(torch::nn::ReLU());
  head->push_back(SeededDropout(dropout, generator));
  head->push_back(torch::nn::Linear(fc, classes));
  return head;
}

int64_t FlatSize(torch::nn::Sequential& features, const std::vector<int64_t>& shape) {
  torch::NoGradGuard noGrad;
  std::vector<int64_t> batch{1};
  batch.insert(batch.end(), shape.begin(), shape.end());
  return features->forward(torch::zeros(batch)).numel();
}

class Mv3d : public Network {
 public:
  Mv3d(const ModelSpec& s, const at::Generator& generator) : spec_(s) {
    namespace F = torch::nn;
    const int c1 = Scaled(64, s.width), c2 = Scaled(128, s.width), c3 = Scaled(256, s.width);
    // conv 3x3x3 stride (2,1,1) + PReLU, max-pool 2x2x2, twice; three 2x2x2 convolutions
    // ('same' padding, so short clips keep a temporal extent), max-pool; no batch norm.
    features_->push_back(F::Conv3d(F::Conv3dOptions(2, c1, 3).stride({2, 1, 1}).padding(1)));
    features_->push_back(SharedPReLULayer());
    features_->push_back(MaxPool2x2x2Layer());
    features_->push_back(F::Conv3d(F::Conv3dOptions(c1, c2, 3).stride({2, 1, 1}).padding(1)));
    features_->push_back(SharedPReLULayer());
    features_->push_back(MaxPool2x2x2Layer());
    for (int i = 0; i < 3; i++) {
      // 'same' output size for an even kernel: one zero plane after each axis.
      features_->push_back(F::ConstantPad3d(F::ConstantPad3dOptions({0, 1, 0, 1, 0, 1}, 0.0)));
      features_->push_back(F::Conv3d(F::Conv3dOptions(i == 0 ? c2 : c3, c3, 2)));
      features_->push_back(SharedPReLULayer());
    }
    features_->push_back(MaxPool2x2x2Layer());
    register_module("features", features_);
    classifier_ = Head(FlatSize(features_, inputShape()), s.fc, s.classes, true, kPaperDropout, generator);
    register_module("classifier", classifier_);
  }
  torch::Tensor forward(torch::Tensor x) override { return classifier_->forward(features_->forward(x).flatten(1)); }
  std::vector<int64_t> inputShape() const override { return {2, spec_.frames, spec_.size, spec_.size}; }

 private:
  ModelSpec spec_;
  torch::nn::Sequential features_, classifier_;
};

class Mv2d : public Network {
 public:
  Mv2d(const ModelSpec& s, const at::Generator& generator) : spec_(s) {
    namespace F = torch::nn;
    const int in = 2 * s.frames;
    const int c1 = Scaled(96, s.width), c2 = Scaled(256, s.width), c3 = Scaled(384, s.width);
    // ClarifaiNet (ZF-Net) with the first filter 3x3 and stride 1 in the first two convolutions.
    features_->push_back(F::Conv2d(F::Conv2dOptions(in, c1, 3).stride(1).padding(1)));
    features_->push_back(F::ReLU());
    features_->push_back(F::MaxPool2d(F::MaxPool2dOptions(3).stride(2)));
    features_->push_back(F::Conv2d(F::Conv2dOptions(c1, c2, 5).stride(1).padding(2)));
    features_->push_back(F::ReLU());
    features_->push_back(F::MaxPool2d(F::MaxPool2dOptions(3).stride(2)));
    features_->push_back(F::Conv2d(F::Conv2dOptions(c2, c3, 3).padding(1)));
    features_->push_back(F::ReLU());
    features_->push_back(F::Conv2d(F::Conv2dOptions(c3, c3, 3).padding(1)));
    features_->push_back(F::ReLU());
    features_->push_back(F::Conv2d(F::Conv2dOptions(c3, c2, 3).padding(1)));
    features_->push_back(F::ReLU());
    features_->push_back(F::MaxPool2d(F::MaxPool2dOptions(3).stride(2)));
    register_module("features", features_);
    classifier_ = Head(FlatSize(features_, inputShape()), s.fc, s.classes, false, kMv2dDropout, generator);
    register_module("classifier", classifier_);
  }
  torch::Tensor forward(torch::Tensor x) override { return classifier_->forward(features_->forward(x).flatten(1)); }
  std::vector<int64_t> inputShape() const override { return {2 * spec_.frames, spec_.size, spec_.size}; }

 private:
  ModelSpec spec_;
  torch::nn::Sequential features_, classifier_;
};

class Vgg16 : public Network {
 public:
  Vgg16(const ModelSpec& s, const at::Generator& generator) : spec_(s) {
    namespace F = torch::nn;
    // torchvision's configuration "D"; module indices match its state_dict names.
    const int plan[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    int in = 3;
    for (int c : plan) {
      if (c == 0) {
        features_->push_back(F::MaxPool2d(F::MaxPool2dOptions(2).stride(2)));
        continue;
      }
      const int out = Scaled(c, s.width);
      features_->push_back(F::Conv2d(F::Conv2dOptions(in, out, 3).padding(1)));
      features_->push_back(F::ReLU(F::ReLUOptions(true)));
      in = out;
    }
    register_module("features", features_);
    pool_ = register_module("avgpool", F::AdaptiveAvgPool2d(F::AdaptiveAvgPool2dOptions({7, 7})));
    const int hidden = s.width >= 1.0 ? 4096 : s.fc;
    classifier_->push_back(F::Linear(in * 49, hidden));
    classifier_->push_back(F::ReLU(F::ReLUOptions(true)));
    classifier_->push_back(SeededDropout(0.5, generator));
    classifier_->push_back(F::Linear(hidden, hidden));
    classifier_->push_back(F::ReLU(F::ReLUOptions(true)));
    classifier_->push_back(SeededDropout(0.5, generator));
    classifier_->push_back(F::Linear(hidden, s.classes));
    register_module("classifier", classifier_);
  }
  torch::Tensor forward(torch::Tensor x) override {
    return classifier_->forward(pool_->forward(features_->forward(x)).flatten(1));
  }
  std::vector<int64_t> inputShape() const override { return {3, spec_.size, spec_.size}; }

 private:
  ModelSpec spec_;
  torch::nn::Sequential features_, classifier_;
  torch::nn::AdaptiveAvgPool2d pool_{nullptr};
};

// ResNet (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016) in torchvision's
// layout and parameter names (conv1, bn1, layerL.B.convK / bnK / downsample.0-1, fc) so that
// torchvision's weights import by name. The variant is torchvision's "v1.5": a bottleneck block
// strides in its 3x3 convolution, not its first 1x1. Every convolution is bias-free and followed by
// batch norm; `width` scales the channels (64 * width at the stem) so a CPU can train it.
// A frame network like vgg16: one 3xSxS image in, class scores out.

// The batch-normalised convolution both blocks are made of: no bias (batch norm's shift is one).
torch::nn::Conv2d BiasFreeConv(int in, int out, int kernel, int stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

// What the residual stages hold: a block maps `in` channels to `out()` channels.
class ResidualBlock : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;

 protected:
  // The shortcut: identity, or (when the shape changes) a strided 1x1 convolution and batch norm,
  // registered as "downsample" with children 0 and 1 as torchvision names them.
  void MakeShortcut(int in, int out, int stride) {
    if (stride == 1 && in == out) return;
    downsample_ = register_module("downsample", torch::nn::Sequential(BiasFreeConv(in, out, 1, stride), torch::nn::BatchNorm2d(out)));
  }
  torch::Tensor Shortcut(const torch::Tensor& x) { return downsample_ ? downsample_->forward(x) : x; }

 private:
  torch::nn::Sequential downsample_{nullptr};
};

// Two 3x3 convolutions (resnet18, resnet34); the first one strides.
class BasicBlock : public ResidualBlock {
 public:
  static constexpr int kExpansion = 1;
  BasicBlock(int in, int planes, int stride)
      : conv1_(register_module("conv1", BiasFreeConv(in, planes, 3, stride))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(planes))),
        conv2_(register_module("conv2", BiasFreeConv(planes, planes, 3, 1))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(planes))) {
    MakeShortcut(in, planes * kExpansion, stride);
  }
  // In place where torchvision is (ReLU after batch norm, the residual sum): batch norm's backward
  // needs its input, not its output, so overwriting the output is safe and saves a tensor a layer.
  torch::Tensor forward(torch::Tensor x) override {
    torch::Tensor y = bn1_->forward(conv1_->forward(x)).relu_();
    y = bn2_->forward(conv2_->forward(y));
    return y.add_(Shortcut(x)).relu_();
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  torch::nn::BatchNorm2d bn2_;
};

// 1x1 down to `planes`, 3x3 (striding), 1x1 up to 4 * planes (resnet50, 101, 152).
class Bottleneck : public ResidualBlock {
 public:
  static constexpr int kExpansion = 4;
  Bottleneck(int in, int planes, int stride)
      : conv1_(register_module("conv1", BiasFreeConv(in, planes, 1, 1))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(planes))),
        conv2_(register_module("conv2", BiasFreeConv(planes, planes, 3, stride))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(planes))),
        conv3_(register_module("conv3", BiasFreeConv(planes, planes * kExpansion, 1, 1))),
        bn3_(register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion))) {
    MakeShortcut(in, planes * kExpansion, stride);
  }
  torch::Tensor forward(torch::Tensor x) override {
    torch::Tensor y = bn1_->forward(conv1_->forward(x)).relu_();
    y = bn2_->forward(conv2_->forward(y)).relu_();
    y = bn3_->forward(conv3_->forward(y));
    return y.add_(Shortcut(x)).relu_();
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  torch::nn::BatchNorm2d bn2_;
  torch::nn::Conv2d conv3_;
  torch::nn::BatchNorm2d bn3_;
};

struct ResNetPlan {
  bool bottleneck;
  int blocks[4];
};

// The depths torchvision builds: blocks per stage.
ResNetPlan PlanOf(const std::string& name) {
  if (name == "resnet18") return {false, {2, 2, 2, 2}};
  if (name == "resnet34") return {false, {3, 4, 6, 3}};
  if (name == "resnet50") return {true, {3, 4, 6, 3}};
  if (name == "resnet101") return {true, {3, 4, 23, 3}};
  if (name == "resnet152") return {true, {3, 8, 36, 3}};
  throw std::invalid_argument("not a resnet: \"" + name + "\"");
}

class ResNet : public Network {
 public:
  // `classifier` false: no fc (a backbone, ending at the pooled features: features()).
  explicit ResNet(const ModelSpec& s, bool classifier = true) : spec_(s) {
    const ResNetPlan plan = PlanOf(s.name);
    const int expansion = plan.bottleneck ? Bottleneck::kExpansion : BasicBlock::kExpansion;
    int in = Scaled(64, s.width);
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, in, 7).stride(2).padding(3).bias(false)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(in));
    const int planes[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; stage++) {
      torch::nn::ModuleList layer;
      const int width = Scaled(planes[stage], s.width);
      for (int b = 0; b < plan.blocks[stage]; b++) {
        // The first block of stages 2-4 halves the side; the rest keep it.
        const int stride = stage > 0 && b == 0 ? 2 : 1;
        std::shared_ptr<ResidualBlock> block;
        if (plan.bottleneck) block = std::make_shared<Bottleneck>(in, width, stride);
        else block = std::make_shared<BasicBlock>(in, width, stride);
        layer->push_back(block);
        blocks_[stage].push_back(block);
        in = width * expansion;
      }
      register_module("layer" + std::to_string(stage + 1), layer);
    }
    features_ = in;
    if (classifier) fc_ = register_module("fc", torch::nn::Linear(in, s.classes));
    // torchvision's initialisation: He's normal rule with fan-out for the convolutions, batch norm
    // as the identity (scale 1, shift 0); fc keeps the Linear default (as in PyTorch).
    torch::NoGradGuard noGrad;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* conv = m->as<torch::nn::Conv2d>()) {
        torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
        torch::nn::init::ones_(bn->weight);
        torch::nn::init::zeros_(bn->bias);
      }
    }
  }
  // [B, 3, S, S] -> [B, featureCount()]: the pooled features fc takes.
  torch::Tensor features(torch::Tensor x) {
    x = bn1_->forward(conv1_->forward(x)).relu_();
    x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
    for (auto& stage : blocks_) {
      for (auto& block : stage) x = block->forward(x);
    }
    // Global average pooling: any input side of at least 1 after the five halvings works.
    return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  }
  torch::Tensor forward(torch::Tensor x) override { return fc_->forward(features(x)); }
  std::vector<int64_t> inputShape() const override { return {3, spec_.size, spec_.size}; }
  std::string headName() const override { return "fc"; }
  int featureCount() const { return features_; }
  const torch::Tensor& stemWeight() const { return conv1_->weight; }

 private:
  ModelSpec spec_;
  int features_ = 0;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<std::shared_ptr<ResidualBlock>> blocks_[4];
  torch::nn::Linear fc_{nullptr};
};

// CNN-LSTM (seeds 000/001): each of the T frames through a ResNet backbone (torchvision's, without
// its fc, any depth, the resnets' width multiplier), then fully connected layers fc, 3fc/4, fc/2
// (ReLU between; fc = 1024 gives the seeds' 1024/768/512), an LSTM (one layer, hidden fc/2) over
// the frames in order, its outputs averaged over the T steps, then fc/2 -> fc/4 (ReLU) -> classes.
// The mean over time, not the seeds' last step: on the synthetic action set (128x128, 4 frames,
// 200 Adam steps) the last step reached 32.5% held out where the mean reached 37.5%, and every
// step's output gets a gradient. Input [B, T, 3, S, S]. Names: encoder.resnet.* (torchvision's, so a resnet state dict
// imports into the backbone), encoder.fc.{0,3,6}, decoder.lstm.*, decoder.fc.{0,3} (the head).
// The backbone is initialised as torchvision's, the linear layers by He's rule, the LSTM as PyTorch's default.
// No dropout: with 0.2 after the hidden layers the network did not fit even its training clips in
// 150 short-run steps (loss stayed at ln 4); the modules stay so that the layer indices in the
// names do not move, and at p = 0 they draw nothing.
constexpr double kCnnLstmDropout = 0.0;

class ClipEncoder : public torch::nn::Module {
 public:
  ClipEncoder(const ModelSpec& s, const at::Generator& generator) {
    ModelSpec backbone = s;
    backbone.name = s.backbone;
    if (!IsResNet(backbone.name)) throw std::invalid_argument("unknown backbone \"" + s.backbone + "\" (expected resnet18, resnet34, resnet50, resnet101 or resnet152)");
    resnet_ = register_module("resnet", std::make_shared<ResNet>(backbone, /*classifier=*/false));
    const int64_t f1 = s.fc, f2 = std::max(1, 3 * s.fc / 4), f3 = std::max(1, s.fc / 2);
    fc_->push_back(torch::nn::Linear(resnet_->featureCount(), f1));
    fc_->push_back(torch::nn::ReLU());
    fc_->push_back(SeededDropout(kCnnLstmDropout, generator));
    fc_->push_back(torch::nn::Linear(f1, f2));
    fc_->push_back(torch::nn::ReLU());
    fc_->push_back(SeededDropout(kCnnLstmDropout, generator));
    fc_->push_back(torch::nn::Linear(f2, f3));
    register_module("fc", fc_);
    // He's rule (fan-in, ReLU), zero biases: with PyTorch's default rule the signal shrank through
    // the five linear layers and the LSTM, and the network hardly moved in a short run.
    HeInitialise(*fc_);
  }
  // [N, 3, S, S] -> [N, fc/2]
  torch::Tensor forward(torch::Tensor x) { return fc_->forward(resnet_->features(x)); }
  bool channelsLast() const {
    const torch::Tensor& w = resnet_->stemWeight();
    return w.is_contiguous(torch::MemoryFormat::ChannelsLast) && !w.is_contiguous();
  }

 private:
  std::shared_ptr<ResNet> resnet_;
  torch::nn::Sequential fc_;
};

class ClipDecoder : public torch::nn::Module {
 public:
  ClipDecoder(const ModelSpec& s, const at::Generator& generator) {
    const int64_t in = std::max(1, s.fc / 2), hidden = std::max(1, s.fc / 2), f = std::max(1, s.fc / 4);
    lstm_ = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(in, hidden).num_layers(1).batch_first(true)));
    fc_->push_back(torch::nn::Linear(hidden, f));
    fc_->push_back(torch::nn::ReLU());
    fc_->push_back(SeededDropout(kCnnLstmDropout, generator));
    fc_->push_back(torch::nn::Linear(f, s.classes));
    register_module("fc", fc_);
    HeInitialise(*fc_);
  }
  // [B, T, fc/2] -> class scores from the LSTM's outputs averaged over time.
  torch::Tensor forward(torch::Tensor x) { return fc_->forward(std::get<0>(lstm_->forward(x)).mean(1)); }

 private:
  torch::nn::LSTM lstm_{nullptr};
  torch::nn::Sequential fc_;
};

class CnnLstm : public Network {
 public:
  CnnLstm(const ModelSpec& s, const at::Generator& generator) : spec_(s) {
    encoder_ = register_module("encoder", std::make_shared<ClipEncoder>(s, generator));
    decoder_ = register_module("decoder", std::make_shared<ClipDecoder>(s, generator));
  }
  torch::Tensor forward(torch::Tensor x) override {
    TORCH_CHECK(x.dim() == 5, "cnn-lstm takes [batch, frames, 3, size, size]");
    const int64_t b = x.size(0), t = x.size(1);
    // The frames of every clip as one batch of images for the backbone (batch norm sees all B*T).
    torch::Tensor images = x.reshape({b * t, x.size(2), x.size(3), x.size(4)});
    if (encoder_->channelsLast()) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor perFrame = encoder_->forward(images);
    return decoder_->forward(perFrame.view({b, t, perFrame.size(1)}));
  }
  std::vector<int64_t> inputShape() const override { return {spec_.frames, 3, spec_.size, spec_.size}; }
  std::string headName() const override { return "decoder.fc.3"; }
  std::string backbonePrefix() const override { return "encoder.resnet."; }

 private:
  ModelSpec spec_;
  std::shared_ptr<ClipEncoder> encoder_;
  std::shared_ptr<ClipDecoder> decoder_;
};

}  // namespace

void HeInitialise(torch::nn::Module& module, double linearStd) {
  torch::NoGradGuard noGrad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* conv3 = m->as<torch::nn::Conv3d>()) {
      torch::nn::init::kaiming_normal_(conv3->weight, 0.0, torch::kFanOut, torch::kReLU);
      torch::nn::init::zeros_(conv3->bias);
    } else if (auto* conv2 = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv2->weight, 0.0, torch::kFanOut, torch::kReLU);
      if (conv2->bias.defined()) torch::nn::init::zeros_(conv2->bias);
    } else if (auto* linear = m->as<torch::nn::Linear>()) {
      if (linearStd > 0) torch::nn::init::normal_(linear->weight, 0.0, linearStd);
      else torch::nn::init::kaiming_normal_(linear->weight, 0.0, torch::kFanIn, torch::kReLU);
      torch::nn::init::zeros_(linear->bias);
    }
  }
}

bool Network::inBackbone(const std::string& name) const {
  const std::string prefix = backbonePrefix();
  if (!prefix.empty()) return name.compare(0, prefix.size(), prefix) == 0;
  const std::string head = headName() + ".";
  return name.compare(0, head.size(), head) != 0;
}

bool IsResNet(const std::string& name) {
  return name == "resnet18" || name == "resnet34" || name == "resnet50" || name == "resnet101" || name == "resnet152";
}

torch::Tensor SeededDropoutImpl::forward(torch::Tensor x) {
  // As at::dropout does it on the CPU (ATen/native/Dropout.cpp, _dropout_impl), with our generator.
  if (p_ == 0 || !is_training() || x.numel() == 0) return x;
  if (p_ == 1) return x * torch::zeros({}, x.options());
  torch::Tensor noise = torch::empty_like(x, at::MemoryFormat::Contiguous);
  noise.bernoulli_(1 - p_, generator_);
  noise.div_(1 - p_);
  return x * noise;
}

std::shared_ptr<Network> MakeNetwork(const ModelSpec& spec, const at::Generator& dropout) {
  if (spec.classes < 2) throw std::invalid_argument("a classifier needs at least 2 classes");
  std::shared_ptr<Network> net;
  if (spec.name == "mv3d") net = std::make_shared<Mv3d>(spec, dropout);
  else if (spec.name == "mv2d") net = std::make_shared<Mv2d>(spec, dropout);
  else if (spec.name == "vgg16") net = std::make_shared<Vgg16>(spec, dropout);
  else if (IsResNet(spec.name)) return std::make_shared<ResNet>(spec);  // initialised as torchvision does, in its constructor
  else if (spec.name == "cnn-lstm") return std::make_shared<CnnLstm>(spec, dropout);  // initialised in its constructor
  else if (spec.name == "x3d-s") return MakeX3d(spec, dropout);        // initialised as pytorchvideo does, in its constructor
  else throw std::invalid_argument("unknown model \"" + spec.name + "\" (expected mv3d, mv2d, vgg16, resnet18, resnet34, resnet50, resnet101, resnet152, cnn-lstm or x3d-s)");
  // mv2d's fully connected layers start from N(0, 0.01), as Caffe's ZF-Net/ClarifaiNet (and
  // torchvision's VGG) do: with He's fan-in rule there its first loss on real footage was 2.9
  // against ln 6 = 1.79 and it had not learnt after 100 iterations; with N(0, 0.01) it starts at
  // 1.92 and learns. mv3d keeps He's rule: N(0, 0.01) starved its gradients (docs/training.md).
  HeInitialise(*net, spec.name == "mv2d" ? 0.01 : 0.0);
  return net;
}

}  // namespace mvclass::nn
