// Text rows of motion vectors for `extract --format csv|json`, formatted on a libuv worker and
// handed back as one Buffer per batch. The CSV is extract_mvs's printf layout byte for byte
// ("%d,%2d,%2d,%2d,%4d,%4d,%4d,%4d,0x%" PRIx64 ",%4d,%4d,%4d\n"); JSON rows are
// [source,w,h,srcX,srcY,dstX,dstY,flags,motionX,motionY,motionScale(,refPoc)] with flags in
// decimal. src/export/csv.ts and json.ts hold the same formats in TypeScript (csvRows,
// jsonFrames), which the tests compare this against.
//
// formatText(format, columns, vectorStart, vectorCount, frames[, into]) -> Promise<Buffer | number>
//   format "csv":  frames is a Float64Array of frame numbers (printed first on each row).
//   format "json": frames is an array of strings, frame f's text before its rows; each row is
//                  bracketed and rows are separated by commas, and "]}" closes every frame.
//   into: a Uint8Array to write the text into, reused by the caller from batch to batch (fresh
//         memory for every batch cost twice the formatting in page faults). The promise gives
//         the number of bytes written there, or, when the text did not fit, a Buffer holding it.
// The columns are read in place by the worker, referenced until it ends (copying them cost as
// much as formatting); the caller must not transfer their buffers meanwhile. Argument errors and
// every exception of the worker reject the promise.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "napi_util.h"

namespace mvclass {
namespace {

// "00" "01" ... "99": two digits per division by 100.
struct DigitPairs {
  char text[200];
  constexpr DigitPairs() : text() {
    for (int i = 0; i < 100; i++) {
      text[2 * i] = static_cast<char>('0' + i / 10);
      text[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
  }
};
constexpr DigitPairs kPairs;

// printf's "%4d" of every value from -999 to 9999 (the four columns of positions and the three of
// motion are nearly always in this range), four bytes each, and "%2d" of -9 to 99 (source, block
// sizes). Values outside take the general path.
constexpr int kPad4Min = -999, kPad4Max = 9999, kPad2Min = -9, kPad2Max = 99;
struct PaddedTable {
  char pad4[4 * (kPad4Max - kPad4Min + 1) + 4];  // + 4: PutShort reads up to 4 bytes from any start
  char pad2[2 * (kPad2Max - kPad2Min + 1)];
  constexpr PaddedTable() : pad4(), pad2() {
    for (int v = kPad4Min; v <= kPad4Max; v++) Fill(pad4 + 4 * (v - kPad4Min), v, 4);
    for (int v = kPad2Min; v <= kPad2Max; v++) Fill(pad2 + 2 * (v - kPad2Min), v, 2);
  }
  static constexpr void Fill(char* out, int v, int width) {
    char digits[8] = {};
    int d = 0;
    int m = v < 0 ? -v : v;
    do {
      digits[d++] = static_cast<char>('0' + m % 10);
      m /= 10;
    } while (m > 0);
    int n = 0;
    for (int pad = width - d - (v < 0 ? 1 : 0); pad > 0; pad--) out[n++] = ' ';
    if (v < 0) out[n++] = '-';
    while (d > 0) out[n++] = digits[--d];
  }
};
constexpr PaddedTable kPadded;

inline int DecimalDigits(uint64_t v) {
  int n = 1;
  while (v >= 10000) {
    v /= 10000;
    n += 4;
  }
  return v < 10 ? n : v < 100 ? n + 1 : v < 1000 ? n + 2 : n + 3;
}

// Writes v's `digits` decimal digits ending just before `end`.
template <typename U>
inline void PutDigits(char* end, U v) {
  while (v >= 100) {
    const unsigned r = static_cast<unsigned>(v % 100);
    v /= 100;
    end -= 2;
    std::memcpy(end, kPairs.text + 2 * r, 2);
  }
  if (v >= 10) {
    std::memcpy(end - 2, kPairs.text + 2 * v, 2);
  } else {
    end[-1] = static_cast<char>('0' + v);
  }
}

// printf's %<width>d: right-aligned with spaces, '-' before the digits.
inline char* PutInt(char* p, int64_t value, int width) {
  const bool negative = value < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  const int digits = DecimalDigits(magnitude);
  for (int pad = width - digits - (negative ? 1 : 0); pad > 0; pad--) *p++ = ' ';
  if (negative) *p++ = '-';
  p += digits;
  if (magnitude <= UINT32_MAX) {
    PutDigits(p, static_cast<uint32_t>(magnitude));
  } else {
    PutDigits(p, magnitude);
  }
  return p;
}

// "%4d" and "%2d": a table entry when the value has one.
inline char* PutInt4(char* p, int32_t v) {
  if (v >= kPad4Min && v <= kPad4Max) {
    std::memcpy(p, kPadded.pad4 + 4 * (v - kPad4Min), 4);
    return p + 4;
  }
  return PutInt(p, v, 4);
}
inline char* PutInt2(char* p, int32_t v) {
  if (v >= kPad2Min && v <= kPad2Max) {
    std::memcpy(p, kPadded.pad2 + 2 * (v - kPad2Min), 2);
    return p + 2;
  }
  return PutInt(p, v, 2);
}
// "%d" (JSON): the "%4d" entry without its leading spaces. Writes 4 bytes whatever the length:
// the output's bound leaves room for that.
inline char* PutShort(char* p, int32_t v) {
  if (v >= kPad4Min && v <= kPad4Max) {
    const char* entry = kPadded.pad4 + 4 * (v - kPad4Min);
    const int spaces = (entry[0] == ' ') + (entry[1] == ' ') + (entry[2] == ' ');
    std::memcpy(p, entry + spaces, 4);
    return p + 4 - spaces;
  }
  return PutInt(p, v, 0);
}

inline char* PutHex(char* p, uint64_t v) {
  static const char kHex[] = "0123456789abcdef";
  int digits = 1;
  while (digits < 16 && (v >> (4 * digits)) != 0) digits++;
  for (int i = digits - 1; i >= 0; i--) *p++ = kHex[(v >> (4 * i)) & 15];
  return p;
}

inline char* PutText(char* p, const std::string& s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// The columns of one batch, read in place (see FormatWorker::keep_).
struct Columns {
  const int8_t* source = nullptr;
  const uint8_t *w = nullptr, *h = nullptr;
  const int16_t *srcX = nullptr, *srcY = nullptr, *dstX = nullptr, *dstY = nullptr;
  const uint64_t* flags = nullptr;
  const int32_t *motionX = nullptr, *motionY = nullptr;
  const uint16_t* motionScale = nullptr;
  const int32_t* refPoc = nullptr;  // null: no refPoc column
  size_t length = 0;
};

constexpr const char* kUsage =
    "formatText(format: 'csv' | 'json', columns, vectorStart: Uint32Array, vectorCount: Uint32Array, "
    "frames: Float64Array (csv) | string[] (json), into?: Uint8Array)";

// A column's elements, checked for type and length; `keep` holds the array until the worker ends.
template <typename T>
const T* ColumnOf(const Napi::Object& columns, const char* key, napi_typedarray_type type, size_t* length,
                  std::vector<Napi::ObjectReference>* keep) {
  Napi::Value v = columns.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(columns.Env(), std::string("formatText: column ") + key + " is missing or of the wrong type");
  }
  Napi::TypedArrayOf<T> array = v.As<Napi::TypedArrayOf<T>>();
  const size_t n = array.ElementLength();
  if (*length == SIZE_MAX) *length = n;
  if (n != *length) throw Napi::RangeError::New(columns.Env(), std::string("formatText: column ") + key + " differs in length");
  keep->push_back(Napi::Persistent(v.As<Napi::Object>()));
  return array.Data();
}

template <typename T>
Napi::TypedArrayOf<T> TypedOf(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(info.Env(), kUsage);
  }
  return info[i].As<Napi::TypedArrayOf<T>>();
}

class FormatWorker : public PromiseWorker {
 public:
  explicit FormatWorker(Napi::Env env) : PromiseWorker(env) {}

  // Everything Run needs, read on the main thread.
  void Parse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const std::string format = StringArgument(info, 0, kUsage);
    if (format != "csv" && format != "json") throw Napi::RangeError::New(env, "formatText: format must be csv or json, got " + format);
    json_ = format == "json";
    if (info.Length() <= 1 || !info[1].IsObject()) throw Napi::TypeError::New(env, kUsage);
    const Napi::Object columns = info[1].As<Napi::Object>();
    size_t n = SIZE_MAX;
    c_.source = ColumnOf<int8_t>(columns, "source", napi_int8_array, &n, &keep_);
    c_.w = ColumnOf<uint8_t>(columns, "w", napi_uint8_array, &n, &keep_);
    c_.h = ColumnOf<uint8_t>(columns, "h", napi_uint8_array, &n, &keep_);
    c_.srcX = ColumnOf<int16_t>(columns, "srcX", napi_int16_array, &n, &keep_);
    c_.srcY = ColumnOf<int16_t>(columns, "srcY", napi_int16_array, &n, &keep_);
    c_.dstX = ColumnOf<int16_t>(columns, "dstX", napi_int16_array, &n, &keep_);
    c_.dstY = ColumnOf<int16_t>(columns, "dstY", napi_int16_array, &n, &keep_);
    c_.flags = ColumnOf<uint64_t>(columns, "flags", napi_biguint64_array, &n, &keep_);
    c_.motionX = ColumnOf<int32_t>(columns, "motionX", napi_int32_array, &n, &keep_);
    c_.motionY = ColumnOf<int32_t>(columns, "motionY", napi_int32_array, &n, &keep_);
    c_.motionScale = ColumnOf<uint16_t>(columns, "motionScale", napi_uint16_array, &n, &keep_);
    const Napi::Value refPoc = columns.Get("refPoc");
    if (json_ && !refPoc.IsUndefined() && !refPoc.IsNull()) {
      c_.refPoc = ColumnOf<int32_t>(columns, "refPoc", napi_int32_array, &n, &keep_);
    }
    c_.length = n;

    const Napi::Uint32Array start = TypedOf<uint32_t>(info, 2, napi_uint32_array);
    const Napi::Uint32Array count = TypedOf<uint32_t>(info, 3, napi_uint32_array);
    const size_t frames = start.ElementLength();
    if (count.ElementLength() != frames) throw Napi::RangeError::New(env, "formatText: vectorStart and vectorCount differ in length");
    start_.assign(start.Data(), start.Data() + frames);
    count_.assign(count.Data(), count.Data() + frames);
    for (size_t f = 0; f < frames; f++) {
      if (static_cast<uint64_t>(start_[f]) + count_[f] > n) {
        throw Napi::RangeError::New(env, "formatText: frame " + std::to_string(f) + "'s vectors lie past the columns' end");
      }
    }

    if (json_) {
      if (info.Length() <= 4 || !info[4].IsArray()) throw Napi::TypeError::New(env, kUsage);
      const Napi::Array heads = info[4].As<Napi::Array>();
      if (heads.Length() != frames) throw Napi::RangeError::New(env, "formatText: one text per frame expected");
      heads_.reserve(frames);
      for (uint32_t f = 0; f < frames; f++) {
        const Napi::Value head = heads.Get(f);
        if (!head.IsString()) throw Napi::TypeError::New(env, kUsage);
        heads_.push_back(head.As<Napi::String>().Utf8Value());
      }
    } else {
      const Napi::Float64Array numbers = TypedOf<double>(info, 4, napi_float64_array);
      if (numbers.ElementLength() != frames) throw Napi::RangeError::New(env, "formatText: one frame number per frame expected");
      heads_.reserve(frames);
      for (size_t f = 0; f < frames; f++) {
        const double v = numbers[f];
        if (!(v >= -9007199254740991.0 && v <= 9007199254740991.0) || static_cast<double>(static_cast<int64_t>(v)) != v) {
          throw Napi::RangeError::New(env, "formatText: frame numbers must be safe integers");
        }
        // "framenum," once per frame, copied in front of each of its rows.
        char text[24];
        char* end = PutInt(text, static_cast<int64_t>(v), 0);
        *end++ = ',';
        heads_.emplace_back(text, end);
      }
    }

    // Optional: the caller's buffer to write into (its memory reused from batch to batch).
    if (info.Length() > 5 && !info[5].IsUndefined()) {
      if (!info[5].IsTypedArray() || info[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, kUsage);
      }
      Napi::Uint8Array into = info[5].As<Napi::Uint8Array>();
      keep_.push_back(Napi::Persistent(info[5].As<Napi::Object>()));
      into_ = reinterpret_cast<char*>(into.Data());
      intoBytes_ = into.ElementLength();
    }
  }

 protected:
  // The most a row can take, every integer at its widest: CSV 91 bytes, JSON 106 with refPoc
  // (source 4, w and h 3 each, four int16 6 each, flags 18 as 0x... or 20 in decimal, motion
  // 11 + 11 + 5, refPoc 11, separators 13), plus CSV's frame number in front of each row; and
  // PutShort's four-byte stores reach up to 3 bytes past the text.
  static constexpr size_t kRowBytes = 4 + 3 + 3 + 4 * 6 + 2 + 20 + 3 * 11 + 5 + 11 + 16;
  static constexpr size_t kFrameBytes = 2 + 8;

  // Room for `bytes` more at p, or the text so far moved to memory of our own that holds the
  // whole batch (at most once: Bound() is enough for everything).
  char* Reserve(char* p, size_t bytes) {
    if (static_cast<size_t>(end_ - p) >= bytes) return p;
    const size_t written = static_cast<size_t>(p - out_);
    const size_t size = written + Bound();
    own_.reset(new char[size]);
    if (written > 0) std::memcpy(own_.get(), out_, written);
    out_ = own_.get();
    end_ = out_ + size;
    return out_ + written;
  }

  size_t Bound() const {
    size_t bound = 0;
    for (size_t f = 0; f < heads_.size(); f++) bound += heads_[f].size() * (json_ ? 1 : count_[f]) + kFrameBytes;
    return bound + c_.length * kRowBytes;
  }

  void Run() override {
    out_ = into_;
    end_ = into_ + intoBytes_;
    char* p = out_;
    const Columns& c = c_;
    for (size_t f = 0; f < start_.size(); f++) {
      const size_t begin = start_[f];
      const size_t end = begin + count_[f];
      const std::string& head = heads_[f];
      if (json_) {
        p = Reserve(p, head.size() + kFrameBytes);
        p = PutText(p, head);
        for (size_t i = begin; i < end; i++) {
          p = Reserve(p, kRowBytes);
          if (i > begin) *p++ = ',';
          *p++ = '[';
          p = PutShort(p, c.source[i]);
          *p++ = ',';
          p = PutShort(p, c.w[i]);
          *p++ = ',';
          p = PutShort(p, c.h[i]);
          *p++ = ',';
          p = PutShort(p, c.srcX[i]);
          *p++ = ',';
          p = PutShort(p, c.srcY[i]);
          *p++ = ',';
          p = PutShort(p, c.dstX[i]);
          *p++ = ',';
          p = PutShort(p, c.dstY[i]);
          *p++ = ',';
          // flags: an unsigned 64-bit value in decimal (JSON numbers of BigInt's text).
          const uint64_t flags = c.flags[i];
          const int digits = DecimalDigits(flags);
          PutDigits(p + digits, flags);
          p += digits;
          *p++ = ',';
          p = PutShort(p, c.motionX[i]);
          *p++ = ',';
          p = PutShort(p, c.motionY[i]);
          *p++ = ',';
          p = PutShort(p, c.motionScale[i]);
          if (c.refPoc != nullptr) {
            *p++ = ',';
            p = PutShort(p, c.refPoc[i]);
          }
          *p++ = ']';
        }
        p = Reserve(p, kFrameBytes);
        *p++ = ']';
        *p++ = '}';
      } else {
        for (size_t i = begin; i < end; i++) {
          p = Reserve(p, head.size() + kRowBytes);
          p = PutText(p, head);
          p = PutInt2(p, c.source[i]);
          *p++ = ',';
          p = PutInt2(p, c.w[i]);
          *p++ = ',';
          p = PutInt2(p, c.h[i]);
          *p++ = ',';
          p = PutInt4(p, c.srcX[i]);
          *p++ = ',';
          p = PutInt4(p, c.srcY[i]);
          *p++ = ',';
          p = PutInt4(p, c.dstX[i]);
          *p++ = ',';
          p = PutInt4(p, c.dstY[i]);
          *p++ = ',';
          *p++ = '0';
          *p++ = 'x';
          p = PutHex(p, c.flags[i]);
          *p++ = ',';
          p = PutInt4(p, c.motionX[i]);
          *p++ = ',';
          p = PutInt4(p, c.motionY[i]);
          *p++ = ',';
          p = PutInt4(p, c.motionScale[i]);
          *p++ = '\n';
        }
      }
    }
    length_ = static_cast<size_t>(p - out_);
  }

  // The number of bytes when they are in the caller's buffer, else a Buffer of its own.
  Napi::Value Result(Napi::Env env) override {
    if (!own_) {
      if (into_ == nullptr) return Napi::Buffer<char>::New(env, 0);  // no text, nowhere given
      return Napi::Number::New(env, static_cast<double>(length_));
    }
    const int64_t bytes = static_cast<int64_t>(length_);
    Napi::Buffer<char> buffer = Napi::Buffer<char>::NewOrCopy(env, own_.get(), length_, [bytes](Napi::Env finalizeEnv, char* data) {
      Napi::MemoryManagement::AdjustExternalMemory(finalizeEnv, -bytes);
      delete[] data;
    });
    own_.release();  // the Buffer's finalizer owns it now (already run if it was copied)
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
    return buffer;
  }

 private:
  bool json_ = false;
  Columns c_;
  // The column arrays, held (main thread only) so that their memory outlives Run. Their buffers
  // must not be detached (transferred) before the promise settles; extract's batches never are.
  std::vector<Napi::ObjectReference> keep_;
  std::vector<uint32_t> start_, count_;
  std::vector<std::string> heads_;
  char* into_ = nullptr;  // the caller's buffer (held in keep_), or none
  size_t intoBytes_ = 0;
  std::unique_ptr<char[]> own_;  // the text when it did not fit into_
  char* out_ = nullptr;
  char* end_ = nullptr;
  size_t length_ = 0;
};

Napi::Value FormatText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* worker = new FormatWorker(env);
  try {
    worker->Parse(info);
  } catch (const Napi::Error& e) {
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(e.Value());
    delete worker;
    return rejected.Promise();
  } catch (const std::exception& e) {
    Napi::Promise::Deferred rejected = Napi::Promise::Deferred::New(env);
    rejected.Reject(Napi::Error::New(env, e.what()).Value());
    delete worker;
    return rejected.Promise();
  }
  return Start(worker);
}

}  // namespace

void InitText(Napi::Env env, Napi::Object exports) {
  exports.Set("formatText", Napi::Function::New(env, FormatText));
}

}  // namespace mvclass
