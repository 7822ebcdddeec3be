// The CPU tensor allocator of the nn addon (allocator.cc says why).
#pragma once

namespace mvclass::nn {

// Installs the caching allocator for libtorch's CPU tensors, once per process, unless
// MVCLASS_TENSOR_CACHE_MB is 0. Called when the addon loads, before any tensor exists.
void UseCachingCpuAllocator();

}  // namespace mvclass::nn
