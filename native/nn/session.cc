#include "session.h"

#include "kernels.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/serialize.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace mvclass::nn {

namespace {
// "cpu", "cuda" (the current CUDA device) or "cuda:N"; the name is the user's, for the messages.
torch::Device DeviceOf(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  const std::string prefix = "cuda:";
  const bool indexed = name.compare(0, prefix.size(), prefix) == 0;
  if (name != "cuda" && !indexed) throw std::invalid_argument("unknown device \"" + name + "\" (expected cpu, cuda or cuda:N)");
  int64_t index = -1;
  if (indexed) {
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 4 || digits.find_first_not_of("0123456789") != std::string::npos) {
      throw std::invalid_argument("unknown device \"" + name + "\" (expected cpu, cuda or cuda:N)");
    }
    index = std::stoll(digits);
  }
  if (!torch::cuda::is_available()) {
    throw std::runtime_error(
        "--device " + name + ": this libtorch has no usable CUDA device (Debian's libtorch-dev is CPU-only; "
        "build native/nn against a CUDA libtorch with MVCLASS_TORCH_DIR)");
  }
  if (!indexed) return torch::kCUDA;
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (index >= count) {
    throw std::runtime_error("--device " + name + ": there is no CUDA device " + std::to_string(index) + "; this machine has " +
                             std::to_string(count) + " (cuda:0" + (count > 1 ? " to cuda:" + std::to_string(count - 1) : std::string()) + ")");
  }
  return torch::Device(torch::kCUDA, static_cast<torch::DeviceIndex>(index));
}
std::string ShapeText(torch::IntArrayRef sizes) {
  std::string text = "[";
  for (size_t i = 0; i < sizes.size(); i++) text += (i ? ", " : "") + std::to_string(sizes[i]);
  return text + "]";
}

// Module::load replaces each tensor with the saved one whatever its shape (Tensor::set_), so a
// checkpoint of another network would load silently and the network would take its shapes.
// This walks the archive as Module::load does and throws, before anything is changed, on a
// missing tensor or one whose shape differs from the network's.
void CheckShapes(const torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix) {
  auto check = [&](const std::string& name, const torch::Tensor& mine, bool isBuffer) {
    torch::Tensor saved;
    if (!archive.try_read(name, saved, isBuffer)) throw std::runtime_error("the checkpoint has no tensor " + prefix + name);
    if (saved.sizes() != mine.sizes()) {
      throw std::runtime_error(prefix + name + " is " + ShapeText(saved.sizes()) + " in the checkpoint but " + ShapeText(mine.sizes()) +
                               " in a network of these settings");
    }
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) check(p.key(), p.value(), false);
  for (const auto& b : module.named_buffers(/*recurse=*/false)) check(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub)) throw std::runtime_error("the checkpoint has no module " + prefix + child.key());
    CheckShapes(*child.value(), sub, prefix + child.key() + ".");
  }
}

at::Generator SeededGenerator(const torch::Device& device, uint64_t seed) {
  at::Generator generator = device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed) : at::globalContext().defaultGenerator(device).clone();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

// torch::nn's layers draw their initial weights from the global CPU generator and take no other:
// `build` runs with the global generator holding `mine`'s state, under a lock that every session
// takes for this, and `mine` gets the state it leaves. The global state is restored afterwards.
template <typename Build>
auto WithGlobalGenerator(at::Generator& mine, Build build) {
  static std::mutex lending;
  std::lock_guard<std::mutex> lent(lending);
  at::Generator global = at::detail::getDefaultCPUGenerator();
  torch::Tensor saved;
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    saved = global.get_state();
    std::lock_guard<std::mutex> lockMine(mine.mutex());
    global.set_state(mine.get_state());
  }
  struct Restore {
    at::Generator& global;
    const torch::Tensor& saved;
    ~Restore() {
      std::lock_guard<std::mutex> lock(global.mutex());
      global.set_state(saved);
    }
  } restore{global, saved};
  auto built = build();
  std::lock_guard<std::mutex> lock(global.mutex());
  std::lock_guard<std::mutex> lockMine(mine.mutex());
  mine.set_state(global.get_state());
  return built;
}
}  // namespace

namespace {
std::string ResolvePrecision(const std::string& wanted, const torch::Device& device) {
  if (wanted != "auto" && wanted != "fp32" && wanted != "bf16" && wanted != "fp16") {
    throw std::invalid_argument("unknown precision \"" + wanted + "\" (expected auto, fp32, bf16 or fp16)");
  }
  if (device.is_cpu()) {
    // CPU autocast exists, but Debian's OpenBLAS/oneDNN kernels gain nothing from it on most CPUs.
    if (wanted == "bf16" || wanted == "fp16") throw std::invalid_argument("precision " + wanted + " needs a CUDA device (the CPU runs fp32)");
    return "fp32";
  }
  return wanted == "auto" ? "bf16" : wanted;
}

bool ResolveChannelsLast(const std::string& wanted, const torch::Device& device, const std::string& precision) {
  if (wanted != "auto" && wanted != "on" && wanted != "off") throw std::invalid_argument("unknown channelsLast \"" + wanted + "\" (expected auto, on or off)");
  if (wanted == "auto") return !device.is_cpu() && precision != "fp32";
  // Debian's libtorch 1.13 (oneDNN 2.6) corrupts the heap in the backward of a channels-last 1x1
  // convolution of stride 2 over 8 channels on an AVX-512 CPU (resnet18 at width 1/8 crashed on its
  // first steps; PyTorch 1.13 does the same with nn.Conv2d(8, 16, 1, 2) on [16, 8, 48, 48]): the
  // CPU keeps contiguous tensors.
  if (wanted == "on" && device.is_cpu()) {
    throw std::invalid_argument("channelsLast needs a CUDA device: on the CPU, libtorch 1.13's channels-last convolutions corrupt memory (the CPU runs contiguous tensors)");
  }
  return wanted == "on";
}

torch::MemoryFormat ChannelsLastFor(int64_t dims) { return dims == 5 ? torch::MemoryFormat::ChannelsLast3d : torch::MemoryFormat::ChannelsLast; }

// libtorch 2.4 renamed the CUDA autocast calls (per device type); these two are the only place
// that knows both spellings.
struct AutocastState {
  bool enabled;
  at::ScalarType type;
};

AutocastState CudaAutocast() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return {at::autocast::is_autocast_enabled(at::kCUDA), at::autocast::get_autocast_dtype(at::kCUDA)};
#else
  return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
#endif
}

void SetCudaAutocast(const AutocastState& state) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, state.enabled);
  at::autocast::set_autocast_dtype(at::kCUDA, state.type);
#else
  at::autocast::set_enabled(state.enabled);
  at::autocast::set_autocast_gpu_dtype(state.type);
#endif
}

// Autocast for one forward pass on the session's GPU, restoring the thread's previous state after:
// autocast is thread-local, and each job runs on whichever libuv worker is free.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, const std::string& precision) : on_(!device.is_cpu() && precision != "fp32") {
    if (!on_) return;
    was_ = CudaAutocast();
    SetCudaAutocast({true, precision == "fp16" ? at::kHalf : at::kBFloat16});
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    // The casts of the weights are cached for the pass; dropped when the outermost scope ends.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    SetCudaAutocast(was_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  AutocastState was_{false, at::kFloat};
};

// The learning rate is set before every step (TrainStep); 0.01 is only a placeholder. Each group
// is one OptimizerParamGroup with the optimiser's options (a grouped session's: the rest of the
// network, then its backbone).
std::unique_ptr<torch::optim::Optimizer> MakeOptimiser(const SessionOptions& options, const std::vector<std::vector<torch::Tensor>>& groups) {
  std::vector<torch::optim::OptimizerParamGroup> paramGroups;
  for (const auto& group : groups) paramGroups.emplace_back(group);
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(paramGroups, torch::optim::SGDOptions(0.01).momentum(options.momentum).weight_decay(options.weightDecay));
  }
  if (options.optimizer == "adam") return std::make_unique<torch::optim::Adam>(paramGroups, torch::optim::AdamOptions(0.01).weight_decay(options.weightDecay));
  if (options.optimizer == "adamw") return std::make_unique<torch::optim::AdamW>(paramGroups, torch::optim::AdamWOptions(0.01).weight_decay(options.weightDecay));
  throw std::invalid_argument("unknown optimizer \"" + options.optimizer + "\" (expected sgd, adam or adamw)");
}

// "backbone learning-rate factor 0.1, frozen for the first 50 steps", for the messages.
std::string BackboneText(double factor, int64_t freeze) {
  if (factor == 1 && freeze == 0) return "one learning rate for every layer";
  std::ostringstream text;
  text << "backbone learning-rate factor " << factor;
  if (freeze > 0) text << ", frozen for the first " << freeze << " steps";
  return text.str();
}
}  // namespace

Session::Session(const SessionOptions& options)
    : options_(options),
      device_(DeviceOf(options.device)),
      generator_(SeededGenerator(torch::kCPU, options.seed)),
      deviceGenerator_(device_.is_cpu() ? generator_ : SeededGenerator(device_, options.seed)),
      precision_(ResolvePrecision(options.precision, device_)),
      channelsLast_(ResolveChannelsLast(options.channelsLast, device_, precision_)) {
  Prepare();
  net_ = WithGlobalGenerator(generator_, [&] { return MakeNetwork(options.spec, deviceGenerator_); });
  net_->to(device_);
  ArrangeWeights();
  if (options.backboneLr < 0 || !std::isfinite(options.backboneLr) || options.freezeBackbone < 0) {
    throw std::invalid_argument("the backbone learning-rate factor must be a finite number of at least 0, and the freeze a step count of at least 0");
  }
  grouped_ = options.backboneLr != 1 || options.freezeBackbone > 0;
  if (!grouped_) {
    optimiser_ = MakeOptimiser(options, {net_->parameters()});
    return;
  }
  // Two groups, each with its own learning rate: the rest of the network (group 0), the backbone (group 1).
  std::vector<torch::Tensor> rest;
  for (const auto& p : net_->named_parameters(true)) (net_->inBackbone(p.key()) ? backbone_ : rest).push_back(p.value());
  if (backbone_.empty() || rest.empty()) throw std::invalid_argument("this network has no backbone apart from its head");
  optimiser_ = MakeOptimiser(options, {rest, backbone_});
}

void Session::ArrangeWeights() {
  if (!channelsLast_) return;
  torch::NoGradGuard noGrad;
  // set_data keeps each parameter's identity (the optimiser holds them) and changes its layout only.
  for (auto& p : net_->parameters()) {
    if (p.dim() == 4 || p.dim() == 5) p.set_data(p.data().contiguous(ChannelsLastFor(p.dim())));
  }
}

void Session::Prepare() const {
  UseThreads();
  if (device_.is_cpu()) return;
  // Process-wide flags: set before each job, so that the session running now has its own.
  at::globalContext().setDeterministicCuDNN(options_.deterministic);
  at::globalContext().setBenchmarkCuDNN(!options_.deterministic);
}

// OpenMP's thread count belongs to the calling thread, and each step runs on whichever libuv
// worker is free: set it on the thread doing the work, or another session's setting leaks in
// (and with it another summation order, so a resumed run would not match an uninterrupted one).
void Session::UseThreads() const {
  if (options_.threads > 0 && at::get_num_threads() != options_.threads) at::set_num_threads(options_.threads);
}

torch::Tensor Session::Input(const float* data, int64_t batch) {
  std::vector<int64_t> shape{batch};
  for (int64_t d : net_->inputShape()) shape.push_back(d);
  // The caller's memory, without a copy on the CPU (the binding keeps it alive meanwhile).
  torch::Tensor x = torch::from_blob(const_cast<float*>(data), shape, torch::kFloat32);
  if (device_.is_cpu()) return x;
  // Under autocast the first layer (a convolution in every network) casts its input to bf16 or
  // fp16 anyway: converting on the host first gives the same values and halves what crosses the bus.
  const torch::ScalarType type = precision_ == "bf16" ? torch::kBFloat16 : precision_ == "fp16" ? torch::kHalf : torch::kFloat32;
  const int64_t n = x.numel();
  if (!staging_.defined() || staging_.numel() < n || staging_.scalar_type() != type) {
    staging_ = torch::empty({n}, torch::TensorOptions().dtype(type).pinned_memory(true));
  }
  // Into pinned memory on libtorch's threads (conversion included), then to the device by DMA.
  // Reusing the buffer is safe: every job ends by reading a result back (loss.item(), the scores),
  // which waits for the copy out of it.
  torch::Tensor staged = staging_.narrow(0, 0, n).view(shape);
  staged.copy_(x);
  torch::Tensor on = staged.to(device_, /*non_blocking=*/true);
  return channelsLast_ && (on.dim() == 4 || on.dim() == 5) ? on.contiguous(ChannelsLastFor(on.dim())) : on;
}

void Session::Freeze(bool frozen) {
  for (auto& p : backbone_) {
    p.set_requires_grad(!frozen);
    // No gradient, not a zero one: the optimisers skip a parameter without one, so a frozen
    // backbone's momentum, Adam moments and step counts stay as they are, and weight decay does
    // not touch it.
    if (frozen) p.mutable_grad() = torch::Tensor();
  }
  if (!frozen) return;
  // Its batch norm layers in eval mode: they normalise with the running statistics they came with
  // and leave them as they are, so that the frozen backbone is the same function in training and
  // at test time, and the layers after it learn on the features they will be given.
  for (const auto& m : net_->named_modules("", /*include_self=*/false)) {
    if (net_->inBackbone(m.key() + ".") && (m.value()->as<torch::nn::BatchNorm2d>() || m.value()->as<torch::nn::BatchNorm3d>())) m.value()->eval();
  }
}

StepResult Session::TrainStep(const float* data, int64_t batch, const int32_t* labels, double learningRate, double backboneLearningRate) {
  Prepare();
  if (!grouped_ && backboneLearningRate != learningRate) {
    throw std::invalid_argument("this session has one learning rate for every layer (no backbone learning-rate factor or freeze was set up)");
  }
  net_->train();
  auto& groups = optimiser_->param_groups();
  groups[0].options().set_lr(learningRate);
  if (grouped_) {
    groups[1].options().set_lr(backboneLearningRate);
    Freeze(backboneLearningRate == 0);
  }
  torch::Tensor x = Input(data, batch);
  torch::Tensor y = torch::from_blob(const_cast<int32_t*>(labels), {batch}, torch::kInt32).to(torch::kLong).to(device_);
  optimiser_->zero_grad();
  torch::Tensor logits, loss;
  {
    // The forward pass and the loss under autocast; backward follows the types they recorded.
    AutocastScope autocast(device_, precision_);
    logits = net_->forward(x);
    loss = torch::nn::functional::cross_entropy(logits, y);
  }
  const bool scaled = precision_ == "fp16";
  (scaled ? loss * lossScale_ : loss).backward();
  StepResult r;
  r.loss = loss.item<double>();
  r.correct = static_cast<int>(logits.argmax(1).eq(y).sum().item<int64_t>());
  r.count = static_cast<int>(batch);
  if (scaled) {
    torch::NoGradGuard noGrad;
    for (auto& p : net_->parameters()) {
      if (p.grad().defined()) p.mutable_grad().mul_(1.0 / lossScale_);
    }
  }
  // The global norm (what clip_grad_norm_ computes), then the step only if everything is finite:
  // one bad batch must not write NaN into the weights.
  r.gradNorm = torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.clipNorm > 0 ? options_.clipNorm : INFINITY);
  r.stepped = std::isfinite(r.loss) && std::isfinite(r.gradNorm);
  if (scaled) {
    // GradScaler's rule: an overflow halves the scale and skips the step; 2000 clean steps double it.
    if (!r.stepped && std::isfinite(r.loss)) {
      r.overflow = true;
      lossScale_ = std::max(1.0, lossScale_ / 2);
      goodSteps_ = 0;
    } else if (r.stepped && ++goodSteps_ >= 2000) {
      lossScale_ *= 2;
      goodSteps_ = 0;
    }
  }
  if (r.stepped) optimiser_->step();
  else optimiser_->zero_grad();
  return r;
}

std::vector<float> Session::Predict(const float* data, int64_t batch) {
  Prepare();
  torch::NoGradGuard noGrad;
  net_->eval();
  torch::Tensor logits;
  {
    AutocastScope autocast(device_, precision_);
    logits = net_->forward(Input(data, batch));
  }
  torch::Tensor p = torch::softmax(logits.to(torch::kFloat32), 1).to(torch::kCPU).contiguous();
  return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

std::string Session::NonFinite() const {
  torch::NoGradGuard noGrad;
  for (const auto& p : net_->named_parameters(true)) {
    if (!torch::isfinite(p.value()).all().item<bool>()) return p.key();
  }
  for (const auto& b : net_->named_buffers(true)) {
    if (b.value().is_floating_point() && !torch::isfinite(b.value()).all().item<bool>()) return b.key();
  }
  return "";
}

namespace {
// The optimiser's state in a layout of our own, so that equal training gives equal checkpoint
// bytes. libtorch's Optimizer::save names each parameter's state after the address of its
// TensorImpl and writes them in hash-map order: the same run saved twice differed in every
// momentum buffer's place and name. Here: one archive per parameter that has state, named by the
// parameter's place in the groups ("0", "1", ...) and written in that order, and "count", the
// number of parameters. The learning rates are not kept: each step sets them (TrainStep).
std::string StateKey(const torch::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }

void SaveOptimiserState(torch::optim::Optimizer& optimiser, const std::string& kind, torch::serialize::OutputArchive& out) {
  auto& state = optimiser.state();
  int64_t index = 0;
  for (auto& group : optimiser.param_groups()) {
    for (const auto& p : group.params()) {
      auto it = state.find(StateKey(p));
      if (it != state.end()) {
        torch::serialize::OutputArchive one(out.compilation_unit());
        if (kind == "sgd") {
          const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
          if (s.momentum_buffer().defined()) one.write("momentum_buffer", s.momentum_buffer());
        } else {
          // Adam's and AdamW's states have the same fields.
          const auto write = [&](const auto& s) {
            one.write("step", torch::tensor(s.step(), torch::kInt64));
            one.write("exp_avg", s.exp_avg());
            one.write("exp_avg_sq", s.exp_avg_sq());
            if (s.max_exp_avg_sq().defined()) one.write("max_exp_avg_sq", s.max_exp_avg_sq());
          };
          if (kind == "adam") write(static_cast<const torch::optim::AdamParamState&>(*it->second));
          else write(static_cast<const torch::optim::AdamWParamState&>(*it->second));
        }
        out.write(std::to_string(index), one);
      }
      index++;
    }
  }
  out.write("count", torch::tensor(index, torch::kInt64));
}

void LoadOptimiserState(torch::optim::Optimizer& optimiser, const std::string& kind, torch::serialize::InputArchive& in) {
  int64_t count = 0;
  for (auto& group : optimiser.param_groups()) count += static_cast<int64_t>(group.params().size());
  torch::Tensor saved;
  in.read("count", saved);
  if (saved.numel() != 1 || saved.to(torch::kCPU).item<int64_t>() != count) {
    throw std::runtime_error("its optimiser state is for another network (" + std::to_string(saved.numel() == 1 ? saved.to(torch::kCPU).item<int64_t>() : -1) +
                             " parameters, not " + std::to_string(count) + ")");
  }
  auto& state = optimiser.state();
  state.clear();
  int64_t index = 0;
  for (auto& group : optimiser.param_groups()) {
    for (const auto& p : group.params()) {
      torch::serialize::InputArchive one;
      if (in.try_read(std::to_string(index++), one)) {
        if (kind == "sgd") {
          auto s = std::make_unique<torch::optim::SGDParamState>();
          torch::Tensor buffer;
          if (one.try_read("momentum_buffer", buffer)) s->momentum_buffer(buffer);
          state[StateKey(p)] = std::move(s);
        } else {
          torch::Tensor step, m, v, vmax;
          one.read("step", step);
          one.read("exp_avg", m);
          one.read("exp_avg_sq", v);
          const bool hasMax = one.try_read("max_exp_avg_sq", vmax);
          const auto fill = [&](auto s) {
            s->step(step.to(torch::kCPU).item<int64_t>());
            s->exp_avg(m);
            s->exp_avg_sq(v);
            if (hasMax) s->max_exp_avg_sq(vmax);
            state[StateKey(p)] = std::move(s);
          };
          if (kind == "adam") fill(std::make_unique<torch::optim::AdamParamState>());
          else fill(std::make_unique<torch::optim::AdamWParamState>());
        }
      }
    }
  }
}
}  // namespace

void Session::Save(const std::string& path) {
  const std::string bad = NonFinite();
  if (!bad.empty()) throw std::runtime_error("not saved: the network's weights are not finite (NaN or infinite values in " + bad + ")");
  torch::serialize::OutputArchive archive;
  net_->save(archive);
  torch::serialize::OutputArchive optimiser(archive.compilation_unit());
  SaveOptimiserState(*optimiser_, options_.optimizer, optimiser);
  archive.write("optimiser_state", optimiser);
  archive.write("optimiser_kind", c10::IValue(options_.optimizer));
  // The optimiser's groups: a grouped checkpoint's state is per group, and resumes only into the same groups.
  archive.write("backbone_groups", torch::tensor({options_.backboneLr, static_cast<double>(options_.freezeBackbone)}, torch::kFloat64));
  {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    archive.write("rng", generator_.get_state());
  }
  // On a GPU, dropout draws from the device's own generator: kept too, so a resumed run continues
  // exactly there as well. (Its state, like the CPU one's, is a CPU byte tensor.)
  if (!device_.is_cpu()) {
    std::lock_guard<std::mutex> lock(deviceGenerator_.mutex());
    archive.write("rng_device", deviceGenerator_.get_state());
  }
  // fp16's loss scale and its count of clean steps: a resumed fp16 run goes on with them.
  if (precision_ == "fp16") archive.write("loss_scale", torch::tensor({lossScale_, static_cast<double>(goodSteps_)}, torch::kFloat64));
  // Through a writer, not to the path: libtorch names the zip's top folder after the file it
  // writes (a temporary name here), and a writer's archive is always "archive".
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::runtime_error(path + ": cannot be written");
  archive.save_to([&file](const void* data, size_t size) -> size_t {
    file.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    return file ? size : 0;
  });
  file.close();
  if (!file) throw std::runtime_error(path + ": write failed");
}

void Session::Load(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path, device_);
  CheckShapes(*net_, archive, "");
  // Each optimiser keeps its own state (momentum; Adam's moments and step count): a checkpoint
  // resumes only with the optimiser that wrote it. Checkpoints from before this key are SGD's.
  c10::IValue kind;
  const std::string saved = archive.try_read("optimiser_kind", kind) && kind.isString() ? kind.toStringRef() : "sgd";
  if (saved != options_.optimizer) {
    throw std::runtime_error("it was trained with the " + saved + " optimizer, and this network is set up for " + options_.optimizer);
  }
  // Checkpoints from before this key had one group for every layer.
  torch::Tensor groups;
  double savedFactor = 1, savedFreeze = 0;
  if (archive.try_read("backbone_groups", groups) && groups.numel() == 2) {
    groups = groups.to(torch::kCPU, torch::kFloat64);
    savedFactor = groups[0].item<double>();
    savedFreeze = groups[1].item<double>();
  }
  if (savedFactor != options_.backboneLr || savedFreeze != static_cast<double>(options_.freezeBackbone)) {
    throw std::runtime_error("it was trained with " + BackboneText(savedFactor, static_cast<int64_t>(savedFreeze)) + ", and this network is set up for " +
                             BackboneText(options_.backboneLr, options_.freezeBackbone));
  }
  net_->load(archive);
  const std::string bad = NonFinite();
  if (!bad.empty()) throw std::runtime_error("its weights are not finite (NaN or infinite values in " + bad + "): the training diverged");
  // Checkpoints written before "optimiser_state" hold libtorch's own layout under "optimiser".
  torch::serialize::InputArchive optimiser;
  if (archive.try_read("optimiser_state", optimiser)) LoadOptimiserState(*optimiser_, saved, optimiser);
  else if (archive.try_read("optimiser", optimiser)) optimiser_->load(optimiser);
  // The archive was read onto the session's device; generator states must be CPU byte tensors.
  torch::Tensor rng;
  if (archive.try_read("rng", rng)) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(rng.to(torch::kCPU));
  }
  // A checkpoint saved on the CPU has no device generator: a GPU session keeps its seeded one.
  // One saved on a GPU loads on the CPU without it (the CPU draws dropout from generator_).
  torch::Tensor rngDevice;
  if (!device_.is_cpu() && archive.try_read("rng_device", rngDevice)) {
    std::lock_guard<std::mutex> lock(deviceGenerator_.mutex());
    deviceGenerator_.set_state(rngDevice.to(torch::kCPU));
  }
  torch::Tensor scale;
  if (precision_ == "fp16" && archive.try_read("loss_scale", scale) && scale.numel() == 2) {
    scale = scale.to(torch::kCPU, torch::kFloat64);
    const double value = scale[0].item<double>(), good = scale[1].item<double>();
    if (std::isfinite(value) && value >= 1 && good >= 0 && good < 2000) {
      lossScale_ = value;
      goodSteps_ = static_cast<int64_t>(good);
    }
  }
  // Loaded tensors take the saved layout: back to this session's.
  ArrangeWeights();
}

namespace {
// The network's state dict as torch.save(dict(model.state_dict())) names it: parameters and
// buffers (batch norm's running statistics and batch count), the same tensors, not copies.
std::vector<std::pair<std::string, torch::Tensor>> StateOf(const torch::nn::Module& net) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& p : net.named_parameters(true)) state.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers(true)) state.emplace_back(b.key(), b.value());
  return state;
}
}  // namespace

std::pair<int, int> Session::ImportWeights(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value = torch::pickle_load(bytes);
  if (!value.isGenericDict()) throw std::runtime_error(path + ": not a dict of tensors (save it with torch.save(dict(model.state_dict())))");
  torch::NoGradGuard noGrad;
  const std::string head = net_->headName() + ".";
  std::map<std::string, torch::Tensor> source;
  for (const auto& entry : value.toGenericDict()) {
    if (entry.key().isString() && entry.value().isTensor()) source.emplace(entry.key().toStringRef(), entry.value().toTensor());
  }
  // Everything is checked before anything is copied: a file that does not fit leaves the network
  // as it was. Only the class-score layer may differ in shape (a new class count: fine-tuning).
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  int skipped = 0;
  std::vector<std::string> missing;
  // A network with a ResNet backbone (cnn-lstm) takes a torchvision resnet's state dict (no name
  // under the backbone's prefix, conv1.weight among them) into the backbone: the file's fc is not
  // used, the network's other tensors keep their values and count as skipped.
  const std::string backbone = net_->backbonePrefix();
  bool intoBackbone = !backbone.empty() && source.count("conv1.weight") > 0 &&
                      std::none_of(source.begin(), source.end(), [&](const auto& e) { return e.first.compare(0, backbone.size(), backbone) == 0; });
  if (intoBackbone) {
    source.erase("fc.weight");
    source.erase("fc.bias");
  }
  for (const auto& [name, target] : StateOf(*net_)) {
    if (intoBackbone && name.compare(0, backbone.size(), backbone) != 0) {
      skipped++;
      continue;
    }
    auto found = source.find(intoBackbone ? name.substr(backbone.size()) : name);
    if (found == source.end()) {
      missing.push_back(name);
      continue;
    }
    const torch::Tensor from = found->second;
    source.erase(found);
    if (from.sizes() != target.sizes()) {
      if (name.compare(0, head.size(), head) == 0) {
        skipped++;
        continue;
      }
      throw std::runtime_error(name + " is " + ShapeText(from.sizes()) + " in the file but " + ShapeText(target.sizes()) +
                               " in this network (another depth, width or input size?)");
    }
    copies.emplace_back(target, from);
  }
  if (copies.empty()) throw std::runtime_error(path + ": no tensor matched this network's parameter names");
  if (!source.empty()) {
    throw std::runtime_error(source.begin()->first + " is in the file but not in this network" +
                             (source.size() > 1 ? " (nor are " + std::to_string(source.size() - 1) + " more)" : std::string()) +
                             ": weights of another network?");
  }
  if (!missing.empty()) {
    throw std::runtime_error("the file has no tensor " + missing.front() +
                             (missing.size() > 1 ? " (nor " + std::to_string(missing.size() - 1) + " more of this network's)" : std::string()) +
                             ": weights of another network?");
  }
  for (auto& [target, from] : copies) target.copy_(from);
  return {static_cast<int>(copies.size()), skipped};
}

void Session::ExportWeights(const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : StateOf(*net_)) dict.insert(name, tensor.detach().to(torch::kCPU).contiguous().clone());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(path + ": write failed");
}

std::pair<double, std::vector<float>> Session::InputGradient(const float* data, int64_t batch, const int32_t* labels) {
  Prepare();
  net_->eval();
  torch::Tensor x = Input(data, batch).to(torch::kFloat32).clone().set_requires_grad(true);
  torch::Tensor y = torch::from_blob(const_cast<int32_t*>(labels), {batch}, torch::kInt32).to(torch::kLong).to(device_);
  torch::Tensor loss = torch::nn::functional::cross_entropy(net_->forward(x), y);
  loss.backward();
  torch::Tensor g = x.grad().to(torch::kCPU).contiguous();
  net_->zero_grad();
  return {loss.item<double>(), std::vector<float>(g.data_ptr<float>(), g.data_ptr<float>() + g.numel())};
}

std::pair<std::vector<float>, std::vector<int64_t>> ApplyLayer(const LayerCall& c) {
  torch::NoGradGuard noGrad;
  auto tensor = [](const std::vector<float>& v, const std::vector<int64_t>& shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
  };
  // The *_grad ops: `out`'s backward from the output's gradient held in `upstream` (the option `name`).
  auto backwardFrom = [&](const torch::Tensor& out, const std::vector<float>& upstream, const char* name) {
    if (static_cast<int64_t>(upstream.size()) != out.numel()) throw std::invalid_argument(c.op + ": " + name + " must hold the output's gradient, " + std::to_string(out.numel()) + " values");
    out.backward(tensor(upstream, out.sizes().vec()));
  };
  namespace F = torch::nn::functional;
  torch::Tensor x = tensor(c.input, c.inputShape), y;
  if (c.op == "conv3d") {
    y = F::conv3d(x, tensor(c.weight, c.weightShape), F::Conv3dFuncOptions().bias(tensor(c.bias, {c.weightShape[0]})).stride(c.stride).padding(c.padding).groups(c.groups));
  } else if (c.op == "conv2d") {
    y = F::conv2d(x, tensor(c.weight, c.weightShape), F::Conv2dFuncOptions().bias(tensor(c.bias, {c.weightShape[0]})).stride(c.stride).padding(c.padding));
  } else if (c.op == "depthwise3d" || c.op == "depthwise3d_grad" || c.op == "conv3d_grad") {
    // A depthwise convolution (weight [C, 1, KT, KH, KW], no bias) by x3d-s's kernel or, for
    // conv3d_grad, libtorch's conv3d with groups = C; *_grad: the output, then the input's and the
    // weight's gradients for the output's gradient `weight2`, flattened one after the other.
    if (c.stride.size() != 3 || c.padding.size() != 3) throw std::invalid_argument(c.op + ": stride and padding need 3 values");
    const std::array<int64_t, 3> stride{c.stride[0], c.stride[1], c.stride[2]}, padding{c.padding[0], c.padding[1], c.padding[2]};
    torch::Tensor w = tensor(c.weight, c.weightShape);
    if (c.op == "depthwise3d") {
      y = DepthwiseConv3d(x, w, stride, padding);
    } else {
      torch::AutoGradMode enable(true);
      x.set_requires_grad(true);
      w.set_requires_grad(true);
      torch::Tensor out = c.op == "depthwise3d_grad" ? DepthwiseConv3d(x, w, stride, padding) : torch::conv3d(x, w, {}, stride, padding, 1, x.size(1));
      backwardFrom(out, c.weight2, "weight2");
      y = torch::cat({out.detach().flatten(), x.grad().flatten(), w.grad().flatten()});
    }
  } else if (c.op == "maxpool3d") {
    y = F::max_pool3d(x, F::MaxPool3dFuncOptions(c.kernel).stride(c.stride).ceil_mode(true));
  } else if (c.op == "maxpool2x2x2") {
    y = MaxPool2x2x2(x);
  } else if (c.op == "maxpool3d_grad" || c.op == "maxpool2x2x2_grad") {
    // The input's gradient for the output's gradient `weight`: where each window's maximum is.
    torch::AutoGradMode enable(true);
    x.set_requires_grad(true);
    torch::Tensor pooled = c.op == "maxpool2x2x2_grad" ? MaxPool2x2x2(x) : F::max_pool3d(x, F::MaxPool3dFuncOptions(c.kernel).stride(c.stride).ceil_mode(true));
    backwardFrom(pooled, c.weight, "weight");
    y = x.grad();
  } else if (c.op == "prelu_grad" || c.op == "shared_prelu_grad") {
    // The input's gradient for the output's gradient `weight2`, then the weight's (one value).
    torch::AutoGradMode enable(true);
    x.set_requires_grad(true);
    torch::Tensor w = tensor(c.weight, {1}).set_requires_grad(true);
    torch::Tensor activated = c.op == "shared_prelu_grad" ? SharedPReLU(x, w) : F::prelu(x, w);
    backwardFrom(activated, c.weight2, "weight2");
    y = torch::cat({x.grad().flatten(), w.grad().flatten()});
  } else if (c.op == "maxpool2d") {
    y = F::max_pool2d(x, F::MaxPool2dFuncOptions(c.kernel).stride(c.stride));
  } else if (c.op == "linear") {
    y = F::linear(x, tensor(c.weight, c.weightShape), tensor(c.bias, {c.weightShape[0]}));
  } else if (c.op == "softmax") {
    y = torch::softmax(x, -1);
  } else if (c.op == "prelu") {
    y = F::prelu(x, tensor(c.weight, {1}));
  } else if (c.op == "swish") {
    y = Swish(x);
  } else if (c.op == "squeeze_excitation") {
    y = SqueezeExcite(x, tensor(c.weight, c.weightShape), tensor(c.bias, {c.weightShape[0]}), tensor(c.weight2, c.weight2Shape), tensor(c.bias2, {c.weight2Shape[0]}));
  } else if (c.op == "lstm") {
    // One LSTM layer as cnn-lstm's decoder holds it (batch first): input [B, T, in], weight
    // [4H, in + H] (weight_ih's columns, then weight_hh's), bias [4H] (bias_ih; bias_hh zero);
    // the output at every step, [B, T, H].
    const int64_t hidden = c.weightShape[0] / 4, in = c.weightShape[1] - hidden;
    torch::nn::LSTM lstm(torch::nn::LSTMOptions(in, hidden).num_layers(1).batch_first(true));
    torch::Tensor w = tensor(c.weight, c.weightShape);
    auto params = lstm->named_parameters();
    params["weight_ih_l0"].copy_(w.narrow(1, 0, in));
    params["weight_hh_l0"].copy_(w.narrow(1, in, hidden));
    params["bias_ih_l0"].copy_(tensor(c.bias, {4 * hidden}));
    params["bias_hh_l0"].zero_();
    y = std::get<0>(lstm->forward(x));
  } else {
    throw std::invalid_argument("unknown layer \"" + c.op + "\"");
  }
  y = y.contiguous();
  return {std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel()), y.sizes().vec()};
}

std::vector<StateTensor> Session::State() const {
  torch::NoGradGuard noGrad;
  std::vector<StateTensor> state;
  auto add = [&](const std::string& name, const torch::Tensor& tensor, bool buffer) {
    const torch::Tensor values = tensor.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    state.push_back({name, tensor.sizes().vec(), buffer, std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel())});
  };
  for (const auto& p : net_->named_parameters(true)) add(p.key(), p.value(), false);
  for (const auto& b : net_->named_buffers(true)) add(b.key(), b.value(), true);
  return state;
}

int64_t Session::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : net_->parameters()) n += p.numel();
  return n;
}

}  // namespace mvclass::nn
