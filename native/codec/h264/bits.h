// Bit-level reading and writing of H.264 RBSPs (ITU-T H.264 7.2): u(n), ue(v), se(v), and the
// NAL payload escaping (emulation prevention, 7.4.1). Header-only: every function is small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mvclass::h264 {

class BitstreamError : public std::runtime_error {
 public:
  explicit BitstreamError(const std::string& what) : std::runtime_error(what) {}
};

// NAL payload (after the header byte) -> RBSP: drop each 0x03 that follows two zero bytes.
inline std::vector<uint8_t> Unescape(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out;
  out.reserve(size);
  int zeros = 0;
  for (size_t i = 0; i < size; i++) {
    if (zeros >= 2 && data[i] == 0x03) {
      zeros = 0;
      continue;
    }
    zeros = data[i] == 0 ? zeros + 1 : 0;
    out.push_back(data[i]);
  }
  return out;
}

// RBSP -> NAL payload: insert 0x03 wherever two zeros would be followed by a byte <= 3.
inline void Escape(const std::vector<uint8_t>& rbsp, std::vector<uint8_t>& out) {
  int zeros = 0;
  for (uint8_t byte : rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push_back(0x03);
      zeros = 0;
    }
    out.push_back(byte);
    zeros = byte == 0 ? zeros + 1 : 0;
  }
}

class BitReader {
 public:
  BitReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit BitReader(const std::vector<uint8_t>& rbsp) : BitReader(rbsp.data(), rbsp.size()) {}
  // The reader keeps a pointer: never let it read from a temporary.
  explicit BitReader(std::vector<uint8_t>&& rbsp) = delete;

  // u(n) for 0 <= n <= 32: a wider read is a caller's bug, never the stream's.
  uint32_t u(int n) {
    if (n < 0 || n > 32) throw BitstreamError("u(" + std::to_string(n) + ") is wider than 32 bits");
    uint32_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 1) | bit();
    return v;
  }
  bool flag() { return bit() != 0; }
  uint32_t ue() {
    int zeros = 0;
    while (bit() == 0) {
      if (++zeros > 31) throw BitstreamError("Exp-Golomb code longer than 32 bits");
    }
    return zeros == 0 ? 0 : ((1u << zeros) - 1 + u(zeros));
  }
  int32_t se() {
    const uint32_t k = ue();
    return (k & 1) ? static_cast<int32_t>((k + 1) / 2) : -static_cast<int32_t>(k / 2);
  }
  size_t position() const { return pos_; }
  size_t bitsLeft() const { return size_ * 8 - pos_; }
  // more_rbsp_data(): anything before the final stop bit?
  bool moreRbspData() const {
    if (pos_ >= size_ * 8) return false;
    size_t last = size_;
    while (last > 0 && data_[last - 1] == 0) last--;
    if (last == 0) return false;
    const uint8_t byte = data_[last - 1];
    int trailing = 0;
    while (((byte >> trailing) & 1) == 0) trailing++;
    const size_t stopBit = (last - 1) * 8 + (7 - trailing);
    return pos_ < stopBit;
  }

 private:
  uint32_t bit() {
    if (pos_ >= size_ * 8) throw BitstreamError("read past the end of a NAL unit");
    const uint32_t b = (data_[pos_ >> 3] >> (7 - (pos_ & 7))) & 1;
    pos_++;
    return b;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

class BitWriter {
 public:
  void u(int n, uint32_t v) {
    if (n < 0 || n > 32) throw BitstreamError("u(" + std::to_string(n) + ") is wider than 32 bits");
    for (int i = n - 1; i >= 0; i--) bit((v >> i) & 1);
  }
  void flag(bool v) { bit(v ? 1 : 0); }
  void ue(uint32_t v) {
    if (v == 0xffffffffu) throw BitstreamError("ue(v) value 4294967295 has no 32-bit code");
    const uint64_t x = static_cast<uint64_t>(v) + 1;
    int len = 0;
    while ((x >> len) > 1) len++;
    for (int i = 0; i < len; i++) bit(0);
    for (int i = len; i >= 0; i--) bit((x >> i) & 1);
  }
  // se(v) maps v to 2v - 1 or -2v; in 64 bits, so that no int32_t value overflows on the way.
  // Values whose code number passes 2^32 - 2 have no 32-bit Exp-Golomb code.
  void se(int32_t v) {
    const int64_t k = v > 0 ? 2 * static_cast<int64_t>(v) - 1 : -2 * static_cast<int64_t>(v);
    if (k > 0xfffffffeLL) throw BitstreamError("se(v) value " + std::to_string(v) + " has no 32-bit code");
    ue(static_cast<uint32_t>(k));
  }
  // rbsp_trailing_bits(): a stop bit, then zeros to the byte boundary.
  void trailing() {
    bit(1);
    while (bits_ & 7) bit(0);
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t bitCount() const { return bits_; }

 private:
  void bit(uint32_t b) {
    if ((bits_ & 7) == 0) bytes_.push_back(0);
    if (b) bytes_.back() |= static_cast<uint8_t>(0x80 >> (bits_ & 7));
    bits_++;
  }
  std::vector<uint8_t> bytes_;
  size_t bits_ = 0;
};

}  // namespace mvclass::h264
