// The fuzz targets that open a path (as crop and the reader do) write each input to a file in
// /dev/shm, one per process and target, so parallel fuzzing jobs never share one.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

inline std::string ScratchPath(const char* target, const char* suffix = "") {
  return "/dev/shm/mvclass-fuzz-" + std::string(target) + "-" + std::to_string(getpid()) + suffix;
}

// False when the file cannot be written (the input is then skipped).
inline bool WriteScratch(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}
