// A Session owns one network, its optimiser (SGD, Adam or AdamW), its device and its random generator: training
// steps, prediction, checkpoints (weights, optimiser momentum and the generator, so that a resumed
// run continues exactly), and import of torchvision-layout weights. Plain C++: no N-API here.
//
// Randomness is per session: the initial weights and the dropout masks come from the session's
// own generator, seeded by SessionOptions::seed, so a seeded model gives the same results whatever
// other sessions the process creates or runs at the same time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models.h"

namespace mvclass::nn {

// One tensor of a network's state dict, copied out (values as doubles: float32 and int64 both exact
// in the ranges networks hold).
struct StateTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool buffer = false;  // a buffer (batch norm's running statistics, its batch count), not a parameter
  std::vector<double> values;
};

struct SessionOptions {
  ModelSpec spec;
  std::string device = "cpu";
  int threads = 0;  // 0: leave libtorch's setting
  // sgd (the paper's: momentum, L2 weight decay), adam (L2 weight decay added to the gradient,
  // as torch.optim.Adam) or adamw (decoupled weight decay, as torch.optim.AdamW).
  std::string optimizer = "sgd";
  double momentum = 0.9;  // sgd only
  double weightDecay = 0.005;
  // The backbone's learning rate is this factor times the rest's (Network::inBackbone says which
  // parameters; 0: frozen), and it is frozen for the first freezeBackbone steps: the caller gives
  // each step both rates (TrainStep), these are kept for the checkpoint. Either set: two parameter
  // groups (the rest, the backbone); neither: one, as before.
  double backboneLr = 1;
  int64_t freezeBackbone = 0;
  // Rescale the gradients so that their global L2 norm is at most this (0: no clipping).
  double clipNorm = 0;
  uint64_t seed = 1;
  // auto (bf16 on a GPU, fp32 on the CPU), fp32, bf16 or fp16: the forward pass's autocast type.
  // The weights stay fp32 (the master copy); fp16 scales the loss (dynamic loss scaling).
  std::string precision = "auto";
  // auto (on a GPU with bf16/fp16), on or off: convolution weights and inputs channels-last.
  std::string channelsLast = "auto";
  // On a GPU: cuDNN's deterministic algorithms, no autotuning (cudnn.benchmark off), so that a
  // run repeats bit for bit; otherwise cuDNN times its algorithms and keeps the fastest.
  bool deterministic = false;
};

struct StepResult {
  double loss = 0;
  int correct = 0;
  int count = 0;
  // The gradients' global L2 norm before clipping.
  double gradNorm = 0;
  // False when the loss or the gradients were not finite: the step was not taken, the weights are unchanged.
  bool stepped = false;
  // fp16 only: the gradients overflowed at the current loss scale, which was halved; the step was
  // skipped as GradScaler skips it. Not a divergence: the next step goes on.
  bool overflow = false;
};

class Session {
 public:
  explicit Session(const SessionOptions& options);
  // backboneLearningRate: the backbone group's rate (0: frozen: no gradient, no optimiser state
  // change, batch norm in eval mode); a session of one group takes only learningRate for it.
  StepResult TrainStep(const float* data, int64_t batch, const int32_t* labels, double learningRate, double backboneLearningRate);
  // Softmax class probabilities, [batch, classes].
  std::vector<float> Predict(const float* data, int64_t batch);
  void Save(const std::string& path);
  void Load(const std::string& path);
  // Copies tensors by name from a dict saved by Python's torch.save(dict(model.state_dict())):
  // parameters and buffers. Returns how many were loaded and how many skipped: only the class-score
  // layer may differ in shape (a new class count); any other difference in shape, a tensor of the
  // network missing from the file or one of the file unknown to the network is an error naming it,
  // thrown before anything is copied.
  std::pair<int, int> ImportWeights(const std::string& path);
  // Writes the state dict (parameters, then buffers: batch norm's running statistics) in the
  // format of Python's torch.save(dict(model.state_dict())), the format ImportWeights reads.
  // ImportWeights takes the buffers too, so a network with batch norm predicts the same after.
  void ExportWeights(const std::string& path);
  // Loss (eval mode: no dropout) and its gradient with respect to the input, for gradient checks.
  std::pair<double, std::vector<float>> InputGradient(const float* data, int64_t batch, const int32_t* labels);
  int64_t parameterCount() const;
  // The state dict as torch.save would name it: parameters, then buffers, with their values.
  std::vector<StateTensor> State() const;
  // The first parameter or buffer holding a NaN or an infinity ("" when all are finite).
  std::string NonFinite() const;
  std::vector<int64_t> inputShape() const { return net_->inputShape(); }
  int classes() const { return options_.spec.classes; }
  // The resolved settings: fp32, bf16 or fp16; channels-last or not.
  const std::string& precision() const { return precision_; }
  bool channelsLast() const { return channelsLast_; }

 private:
  torch::Tensor Input(const float* data, int64_t batch);
  void UseThreads() const;
  // Before each job: the thread's libtorch threads and, on a GPU, cuDNN's algorithm choice.
  void Prepare() const;
  // Conv weights into channels-last (after building, loading or importing), when that is the setting.
  void ArrangeWeights();
  // A frozen backbone: no gradients, batch norm in eval mode (after net_->train()); or trainable again.
  void Freeze(bool frozen);
  SessionOptions options_;
  torch::Device device_;
  at::Generator generator_;        // CPU: the initial weights, and dropout on the CPU
  at::Generator deviceGenerator_;  // dropout on the session's device (generator_ on the CPU)
  std::shared_ptr<Network> net_;
  std::unique_ptr<torch::optim::Optimizer> optimiser_;
  // Two parameter groups (the rest, the backbone) and the backbone's parameters; one group when false.
  bool grouped_ = false;
  std::vector<torch::Tensor> backbone_;
  std::string precision_;
  bool channelsLast_ = false;
  // fp16's dynamic loss scale (GradScaler's defaults: 2^16, halved on overflow, doubled after 2000 good steps).
  double lossScale_ = 65536.0;
  int64_t goodSteps_ = 0;
  // A GPU session's pinned host buffer: the batch is copied into it (on the libtorch threads) and
  // from it to the device by DMA, instead of the driver staging pageable memory a chunk at a time.
  torch::Tensor staging_;
};

// One layer applied to small tensors, to check the layers against a reference implementation.
struct LayerCall {
  std::string op;  // conv3d | conv2d | maxpool3d | maxpool2x2x2 (mv3d's) | maxpool3d_grad | maxpool2x2x2_grad | maxpool2d | linear | softmax | prelu | prelu_grad | shared_prelu_grad (mv3d's) | lstm | swish | squeeze_excitation
  //             | depthwise3d | depthwise3d_grad (x3d-s's kernel) | conv3d_grad (libtorch's, groups = channels)
  // maxpool*_grad: the input's gradient, given the output's in `weight`; *prelu_grad: the input's
  // gradient and then the weight's, given the weight in `weight` and the output's gradient in `weight2`.
  // depthwise3d*_grad, conv3d_grad: the output, the input's and the weight's gradients, given the output's in `weight2`.
  // squeeze_excitation: weight/bias reduce, weight2/bias2 expand (1x1x1 convolutions).
  std::vector<float> input, weight, bias, weight2, bias2;
  std::vector<int64_t> inputShape, weightShape, weight2Shape, stride, padding, kernel;
  int64_t groups = 1;  // conv3d: groups (the channel count for a depthwise convolution)
};
std::pair<std::vector<float>, std::vector<int64_t>> ApplyLayer(const LayerCall& call);

}  // namespace mvclass::nn
