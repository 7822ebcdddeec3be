#include "session.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
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
// The learning rate is set before every step (TrainStep); 0.01 is only a placeholder.
std::unique_ptr<torch::optim::Optimizer> MakeOptimiser(const SessionOptions& options, const std::vector<torch::Tensor>& parameters) {
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(0.01).momentum(options.momentum).weight_decay(options.weightDecay));
  }
  if (options.optimizer == "adam") return std::make_unique<torch::optim::Adam>(parameters, torch::optim::AdamOptions(0.01).weight_decay(options.weightDecay));
  if (options.optimizer == "adamw") return std::make_unique<torch::optim::AdamW>(parameters, torch::optim::AdamWOptions(0.01).weight_decay(options.weightDecay));
  throw std::invalid_argument("unknown optimizer \"" + options.optimizer + "\" (expected sgd, adam or adamw)");
}
}  // namespace

Session::Session(const SessionOptions& options)
    : options_(options),
      device_(DeviceOf(options.device)),
      generator_(SeededGenerator(torch::kCPU, options.seed)),
      deviceGenerator_(device_.is_cpu() ? generator_ : SeededGenerator(device_, options.seed)) {
  UseThreads();
  net_ = WithGlobalGenerator(generator_, [&] { return MakeNetwork(options.spec, deviceGenerator_); });
  net_->to(device_);
  optimiser_ = MakeOptimiser(options, net_->parameters());
}

// OpenMP's thread count belongs to the calling thread, and each step runs on whichever libuv
// worker is free: set it on the thread doing the work, or another session's setting leaks in
// (and with it another summation order, so a resumed run would not match an uninterrupted one).
void Session::UseThreads() const {
  if (options_.threads > 0 && at::get_num_threads() != options_.threads) at::set_num_threads(options_.threads);
}

torch::Tensor Session::Input(const float* data, int64_t batch) const {
  std::vector<int64_t> shape{batch};
  for (int64_t d : net_->inputShape()) shape.push_back(d);
  // The caller's memory, without a copy on the CPU (the binding keeps it alive meanwhile).
  torch::Tensor x = torch::from_blob(const_cast<float*>(data), shape, torch::kFloat32);
  return device_.is_cpu() ? x : x.to(device_);
}

StepResult Session::TrainStep(const float* data, int64_t batch, const int32_t* labels, double learningRate) {
  UseThreads();
  net_->train();
  for (auto& group : optimiser_->param_groups()) group.options().set_lr(learningRate);
  torch::Tensor x = Input(data, batch);
  torch::Tensor y = torch::from_blob(const_cast<int32_t*>(labels), {batch}, torch::kInt32).to(torch::kLong).to(device_);
  optimiser_->zero_grad();
  torch::Tensor logits = net_->forward(x);
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
  loss.backward();
  StepResult r;
  r.loss = loss.item<double>();
  r.correct = static_cast<int>(logits.argmax(1).eq(y).sum().item<int64_t>());
  r.count = static_cast<int>(batch);
  // The global norm (what clip_grad_norm_ computes), then the step only if everything is finite:
  // one bad batch must not write NaN into the weights.
  r.gradNorm = torch::nn::utils::clip_grad_norm_(net_->parameters(), options_.clipNorm > 0 ? options_.clipNorm : INFINITY);
  r.stepped = std::isfinite(r.loss) && std::isfinite(r.gradNorm);
  if (r.stepped) optimiser_->step();
  else optimiser_->zero_grad();
  return r;
}

std::vector<float> Session::Predict(const float* data, int64_t batch) {
  UseThreads();
  torch::NoGradGuard noGrad;
  net_->eval();
  torch::Tensor p = torch::softmax(net_->forward(Input(data, batch)), 1).to(torch::kCPU).contiguous();
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

void Session::Save(const std::string& path) {
  const std::string bad = NonFinite();
  if (!bad.empty()) throw std::runtime_error("not saved: the network's weights are not finite (NaN or infinite values in " + bad + ")");
  torch::serialize::OutputArchive archive;
  net_->save(archive);
  torch::serialize::OutputArchive optimiser;
  optimiser_->save(optimiser);
  archive.write("optimiser", optimiser);
  archive.write("optimiser_kind", c10::IValue(options_.optimizer));
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
  archive.save_to(path);
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
  net_->load(archive);
  const std::string bad = NonFinite();
  if (!bad.empty()) throw std::runtime_error("its weights are not finite (NaN or infinite values in " + bad + "): the training diverged");
  torch::serialize::InputArchive optimiser;
  if (archive.try_read("optimiser", optimiser)) optimiser_->load(optimiser);
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
  for (const auto& [name, target] : StateOf(*net_)) {
    auto found = source.find(name);
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
  for (const auto& [name, tensor] : StateOf(*net_)) dict.insert(name, tensor.detach().to(torch::kCPU).clone());
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(path + ": write failed");
}

std::pair<double, std::vector<float>> Session::InputGradient(const float* data, int64_t batch, const int32_t* labels) {
  UseThreads();
  net_->eval();
  torch::Tensor x = Input(data, batch).clone().set_requires_grad(true);
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
  namespace F = torch::nn::functional;
  torch::Tensor x = tensor(c.input, c.inputShape), y;
  if (c.op == "conv3d") {
    y = F::conv3d(x, tensor(c.weight, c.weightShape), F::Conv3dFuncOptions().bias(tensor(c.bias, {c.weightShape[0]})).stride(c.stride).padding(c.padding));
  } else if (c.op == "conv2d") {
    y = F::conv2d(x, tensor(c.weight, c.weightShape), F::Conv2dFuncOptions().bias(tensor(c.bias, {c.weightShape[0]})).stride(c.stride).padding(c.padding));
  } else if (c.op == "maxpool3d") {
    y = F::max_pool3d(x, F::MaxPool3dFuncOptions(c.kernel).stride(c.stride).ceil_mode(true));
  } else if (c.op == "maxpool2d") {
    y = F::max_pool2d(x, F::MaxPool2dFuncOptions(c.kernel).stride(c.stride));
  } else if (c.op == "linear") {
    y = F::linear(x, tensor(c.weight, c.weightShape), tensor(c.bias, {c.weightShape[0]}));
  } else if (c.op == "softmax") {
    y = torch::softmax(x, -1);
  } else if (c.op == "prelu") {
    y = F::prelu(x, tensor(c.weight, {1}));
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
