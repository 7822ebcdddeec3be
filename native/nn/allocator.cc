// A caching allocator for libtorch's CPU tensors. A training step allocates and frees the same
// large activations and gradients at every step. Through glibc, blocks over its mmap threshold
// (32 MB at most) are mapped and unmapped each time, and libuv's and OpenMP's threads allocate
// from arenas whose heaps are capped at 64 MB, so every step page-faulted its whole working set
// afresh: resnet50 at batch 16 and 224 px, 2 threads, took 600,000-950,000 minor faults and
// 4.6-9.4 s of system time per step. Blocks of 1 MiB and more are therefore kept when freed and
// handed out again for the same (rounded) size, up to a cap; smaller ones go straight to c10's
// own allocation, where glibc's arenas already reuse memory. The cap is a quarter of physical
// memory, or MVCLASS_TENSOR_CACHE_MB (0 turns the cache off and leaves libtorch's allocator).
#include "allocator.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mvclass::nn {
namespace {

constexpr size_t kSmallest = size_t{64} << 10;  // blocks under 64 KiB are not cached

// Cached sizes are rounded up to 4 KiB under 1 MiB and to 64 KiB above (at most 6% more).
size_t Rounded(size_t bytes) {
  const size_t granule = bytes < (size_t{1} << 20) ? size_t{4} << 10 : size_t{64} << 10;
  return (bytes + granule - 1) / granule * granule;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(size_t cap) : cap_(cap) {}

  // libtorch declares allocate const before 2.3 and not from 2.3 on, when copy_data also became
  // pure virtual: both spellings are here, without `override`, and the base's own is the one
  // that overrides (a libtorch with neither fails to compile: the class would be abstract).
  c10::DataPtr allocate(size_t bytes) const {
    void* data = bytes == 0 ? nullptr : Self()->Take(bytes);
    return {data, data, &Release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DataPtr allocate(size_t bytes) { return std::as_const(*this).allocate(bytes); }
  void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }

  // One deleter for every block, with the data pointer as its context: raw_allocate and
  // raw_deallocate are safe, as with c10's default allocator.
  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

  static CachingCpuAllocator* instance;

 private:
  CachingCpuAllocator* Self() const { return const_cast<CachingCpuAllocator*>(this); }

  void* Take(size_t bytes) {
    if (bytes < kSmallest) {
      void* data = c10::alloc_cpu(bytes);
      std::lock_guard<std::mutex> lock(mutex_);
      sizes_[data] = 0;  // 0: not cached when freed
      return data;
    }
    const size_t rounded = Rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        void* data = it->second.back();
        it->second.pop_back();
        cached_ -= rounded;
        return data;  // still registered in sizes_
      }
    }
    void* data = c10::alloc_cpu(rounded);  // throws c10::Error when out of memory
    std::lock_guard<std::mutex> lock(mutex_);
    sizes_[data] = rounded;
    return data;
  }

  void Give(void* data) {
    if (data == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = sizes_.find(data);
      if (it != sizes_.end() && it->second != 0 && cached_ + it->second <= cap_) {
        free_[it->second].push_back(data);
        cached_ += it->second;
        return;
      }
      if (it != sizes_.end()) sizes_.erase(it);
    }
    c10::free_cpu(data);
  }

  static void Release(void* data) { instance->Give(data); }

  const size_t cap_;
  std::mutex mutex_;
  std::unordered_map<void*, size_t> sizes_;                 // every block handed out or cached: its rounded size
  std::unordered_map<size_t, std::vector<void*>> free_;    // cached blocks by rounded size
  size_t cached_ = 0;                                      // bytes in free_
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

size_t CapBytes() {
  if (const char* mb = std::getenv("MVCLASS_TENSOR_CACHE_MB")) {
    char* end = nullptr;
    const unsigned long long value = std::strtoull(mb, &end, 10);
    if (end != mb && *end == '\0') return static_cast<size_t>(value) << 20;
  }
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : size_t{1} << 30;
}

}  // namespace

void UseCachingCpuAllocator() {
  static std::once_flag once;
  std::call_once(once, [] {
    const size_t cap = CapBytes();
    if (cap == 0) return;
    // Never deleted: tensors may be freed by static destructors at exit, after ours would run.
    CachingCpuAllocator::instance = new CachingCpuAllocator(cap);
    c10::SetCPUAllocator(CachingCpuAllocator::instance, /*priority=*/1);
  });
}

}  // namespace mvclass::nn
