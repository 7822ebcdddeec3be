#include "models.h"

#include <cmath>
#include <stdexcept>

namespace mvclass::nn {

namespace {

int Scaled(int channels, double width) { return std::max(4, static_cast<int>(std::lround(channels * width))); }

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
  if (prelu) head->push_back(torch::nn::PReLU());
  else head->push_back(torch::nn::ReLU());
  head->push_back(SeededDropout(dropout, generator));
  head->push_back(torch::nn::Linear(fc, fc));
  if (prelu) head->push_back(torch::nn::PReLU());
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
    features_->push_back(F::PReLU());
    features_->push_back(F::MaxPool3d(F::MaxPool3dOptions(2).ceil_mode(true)));
    features_->push_back(F::Conv3d(F::Conv3dOptions(c1, c2, 3).stride({2, 1, 1}).padding(1)));
    features_->push_back(F::PReLU());
    features_->push_back(F::MaxPool3d(F::MaxPool3dOptions(2).ceil_mode(true)));
    for (int i = 0; i < 3; i++) {
      // 'same' output size for an even kernel: one zero plane after each axis.
      features_->push_back(F::ConstantPad3d(F::ConstantPad3dOptions({0, 1, 0, 1, 0, 1}, 0.0)));
      features_->push_back(F::Conv3d(F::Conv3dOptions(i == 0 ? c2 : c3, c3, 2)));
      features_->push_back(F::PReLU());
    }
    features_->push_back(F::MaxPool3d(F::MaxPool3dOptions(2).ceil_mode(true)));
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

}  // namespace

void HeInitialise(torch::nn::Module& module, double linearStd) {
  torch::NoGradGuard noGrad;
  for (auto& m : module.modules(/*include_self=*/false)) {
    if (auto* conv3 = m->as<torch::nn::Conv3d>()) {
      torch::nn::init::kaiming_normal_(conv3->weight, 0.0, torch::kFanOut, torch::kReLU);
      torch::nn::init::zeros_(conv3->bias);
    } else if (auto* conv2 = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv2->weight, 0.0, torch::kFanOut, torch::kReLU);
      torch::nn::init::zeros_(conv2->bias);
    } else if (auto* linear = m->as<torch::nn::Linear>()) {
      if (linearStd > 0) torch::nn::init::normal_(linear->weight, 0.0, linearStd);
      else torch::nn::init::kaiming_normal_(linear->weight, 0.0, torch::kFanIn, torch::kReLU);
      torch::nn::init::zeros_(linear->bias);
    }
  }
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
  else throw std::invalid_argument("unknown model \"" + spec.name + "\" (expected mv3d, mv2d or vgg16)");
  // mv2d's fully connected layers start from N(0, 0.01), as Caffe's ZF-Net/ClarifaiNet (and
  // torchvision's VGG) do: with He's fan-in rule there its first loss on real footage was 2.9
  // against ln 6 = 1.79 and it had not learnt after 100 iterations; with N(0, 0.01) it starts at
  // 1.92 and learns. mv3d keeps He's rule: N(0, 0.01) starved its gradients (docs/training.md).
  HeInitialise(*net, spec.name == "mv2d" ? 0.01 : 0.0);
  return net;
}

}  // namespace mvclass::nn
