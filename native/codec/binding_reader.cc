// JavaScript face of the reader: openReader() -> Reader.read(n) -> batches of frame records,
// vector columns, grids and key frames; probe(); buildGrid() for vectors already in hand.
#include <atomic>
#include <memory>

#include "grid.h"
#include "bindings.h"
#include "napi_util.h"
#include "probe.h"
#include "reader.h"

namespace mvclass {
namespace {

// { inputOptions: { key: "value" } } -> pairs; the TS layer has checked the types.
InputOptions InputOptionsOf(const Napi::Object& o) {
  InputOptions out;
  if (!o.Has("inputOptions") || !o.Get("inputOptions").IsObject()) return out;
  Napi::Object given = o.Get("inputOptions").As<Napi::Object>();
  Napi::Array keys = given.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    const std::string key = keys.Get(i).ToString().Utf8Value();
    out.emplace_back(key, given.Get(key).ToString().Utf8Value());
  }
  return out;
}

ReaderOptions ParseReaderOptions(const Napi::Object& o) {
  ReaderOptions options;
  options.path = StringOption(o, "path", "");
  options.vectors = BoolOption(o, "vectors", true);
  options.gridBlock = static_cast<int>(NumberOption(o, "grid", 0));
  options.gridSource = static_cast<int>(NumberOption(o, "gridSource", -1));
  options.gridQuarterPel = StringOption(o, "gridUnits", "pixels") == "quarter-pel";
  options.keyFrames = BoolOption(o, "keyFrames", false);
  options.firstKeyFrameOnly = BoolOption(o, "firstKeyFrameOnly", false);
  options.keyWidth = static_cast<int>(NumberOption(o, "keyWidth", 0));
  options.keyHeight = static_cast<int>(NumberOption(o, "keyHeight", 0));
  options.requireVectors = BoolOption(o, "requireVectors", true);
  options.inputOptions = InputOptionsOf(o);
  Napi::Value clip = o.Get("clipIndices");
  if (!clip.IsUndefined() && !clip.IsNull()) {
    // Bounded before anything is allocated for it; strictly increasing, as the reader walks it once.
    if (!clip.IsArray()) throw Napi::TypeError::New(o.Env(), "option clipIndices must be an array");
    Napi::Array list = clip.As<Napi::Array>();
    if (list.Length() < 1 || list.Length() > kMaxClipFrames) {
      throw Napi::RangeError::New(o.Env(), "option clipIndices must hold 1 to " + std::to_string(kMaxClipFrames) + " indices");
    }
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value v = list.Get(i);
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d ||
          (i > 0 && d <= static_cast<double>(options.clipIndices.back()))) {
        throw Napi::RangeError::New(o.Env(), "option clipIndices must be strictly increasing whole numbers from 0");
      }
      options.clipIndices.push_back(static_cast<int64_t>(d));
    }
  }
  Napi::Value stride = o.Get("clipStride");
  if (!stride.IsUndefined() && !stride.IsNull()) {
    if (!options.clipIndices.empty()) throw Napi::RangeError::New(o.Env(), "options clipIndices and clipStride exclude each other");
    options.clipStride = IntegerOption(o, "clipStride", 0, 1, 2147483647);
  }
  if (options.WantsClip()) {
    options.clipShortSide = static_cast<int>(IntegerOption(o, "clipShortSide", 0, 2, kMaxClipShortSide));
    if (options.clipShortSide % 2 != 0) throw Napi::RangeError::New(o.Env(), "option clipShortSide must be even");
  }
  if (options.path.empty()) throw Napi::TypeError::New(o.Env(), "option path is required");
  return options;
}

Napi::Object SummaryToJs(Napi::Env env, const StreamSummary& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("codec", s.codec);
  o.Set("width", s.width);
  o.Set("height", s.height);
  o.Set("fps", s.fps);
  return o;
}

Napi::Value BatchToJs(Napi::Env env, ReadBatch& batch, const ReaderOptions& options) {
  const size_t n = batch.frames.size();
  std::vector<double> index(n), pts(n), bits(n), magnitude(n);
  std::vector<uint8_t> type(n), key(n);
  std::vector<uint32_t> vectorStart(n), vectorCount(n);
  std::vector<int32_t> keyFrame(n);
  for (size_t i = 0; i < n; i++) {
    const FrameRecord& f = batch.frames[i];
    index[i] = static_cast<double>(f.index);
    pts[i] = f.pts;
    bits[i] = static_cast<double>(f.bits);
    magnitude[i] = f.magnitude;
    type[i] = static_cast<uint8_t>(f.type);
    key[i] = f.key ? 1 : 0;
    vectorStart[i] = f.vectorStart;
    vectorCount[i] = f.vectorCount;
    keyFrame[i] = f.keyFrame;
  }
  Napi::Object frames = Napi::Object::New(env);
  frames.Set("index", Adopt(env, std::move(index)));
  frames.Set("pts", Adopt(env, std::move(pts)));
  frames.Set("bits", Adopt(env, std::move(bits)));
  frames.Set("type", Adopt(env, std::move(type)));
  frames.Set("key", Adopt(env, std::move(key)));
  frames.Set("vectorStart", Adopt(env, std::move(vectorStart)));
  frames.Set("vectorCount", Adopt(env, std::move(vectorCount)));
  frames.Set("keyFrame", Adopt(env, std::move(keyFrame)));
  frames.Set("magnitude", Adopt(env, std::move(magnitude)));

  Napi::Object out = Napi::Object::New(env);
  out.Set("done", batch.done);
  out.Set("frames", frames);
  if (batch.done) {
    Napi::Object dominant = Napi::Object::New(env);
    dominant.Set("list0", static_cast<double>(batch.list0Count));
    if (batch.hasDominant) {
      dominant.Set("qx", batch.dominantX);
      dominant.Set("qy", batch.dominantY);
      dominant.Set("count", static_cast<double>(batch.dominantCount));
    }
    out.Set("dominant", dominant);
  }

  if (options.vectors) {
    VectorColumns& v = batch.vectors;
    Napi::Object vectors = Napi::Object::New(env);
    vectors.Set("source", Adopt(env, std::move(v.source)));
    vectors.Set("w", Adopt(env, std::move(v.w)));
    vectors.Set("h", Adopt(env, std::move(v.h)));
    vectors.Set("srcX", Adopt(env, std::move(v.srcX)));
    vectors.Set("srcY", Adopt(env, std::move(v.srcY)));
    vectors.Set("dstX", Adopt(env, std::move(v.dstX)));
    vectors.Set("dstY", Adopt(env, std::move(v.dstY)));
    vectors.Set("flags", Adopt(env, std::move(v.flags)));
    vectors.Set("motionX", Adopt(env, std::move(v.motionX)));
    vectors.Set("motionY", Adopt(env, std::move(v.motionY)));
    vectors.Set("motionScale", Adopt(env, std::move(v.scale)));
    if (v.hasRefPoc) vectors.Set("refPoc", Adopt(env, std::move(v.refPoc)));
    out.Set("vectors", vectors);
  }
  if (options.gridBlock > 0) {
    Napi::Object grid = Napi::Object::New(env);
    grid.Set("rows", batch.gridRows);
    grid.Set("cols", batch.gridCols);
    if (options.gridQuarterPel) grid.Set("data", Adopt(env, std::move(batch.gridQuarterPels)));
    else grid.Set("data", Adopt(env, std::move(batch.gridPixels)));
    grid.Set("mask", Adopt(env, std::move(batch.gridMask)));
    out.Set("grid", grid);
  }
  Napi::Array keys = Napi::Array::New(env, batch.keyFrames.size());
  for (size_t i = 0; i < batch.keyFrames.size(); i++) {
    KeyFrame& k = batch.keyFrames[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", static_cast<double>(k.index));
    o.Set("pts", k.pts);
    o.Set("type", std::string(1, k.type));
    o.Set("width", k.image.width);
    o.Set("height", k.image.height);
    o.Set("data", Adopt(env, std::move(k.image.rgb)));
    keys.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("keyFrames", keys);
  Napi::Array clips = Napi::Array::New(env, batch.clipFrames.size());
  for (size_t i = 0; i < batch.clipFrames.size(); i++) {
    ClipFrame& c = batch.clipFrames[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", static_cast<double>(c.index));
    o.Set("width", c.image.width);
    o.Set("height", c.image.height);
    o.Set("data", Adopt(env, std::move(c.image.rgb)));
    clips.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("clipFrames", clips);
  out.Set("warnings", StringsToJs(env, batch.warnings));
  return out;
}

class ReaderWrap : public Napi::ObjectWrap<ReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Reader",
                       {InstanceMethod("read", &ReaderWrap::Read),
                        InstanceMethod("close", &ReaderWrap::Close)});
  }
  explicit ReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReaderWrap>(info) {}

  std::shared_ptr<MotionReader> reader;
  ReaderOptions options;
  std::shared_ptr<std::atomic<bool>> busy = std::make_shared<std::atomic<bool>>(false);

 private:
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info) {
    // A read in flight keeps its own reference; the decoder is freed when it finishes.
    reader.reset();
    return info.Env().Undefined();
  }
};

class OpenReaderWorker : public PromiseWorker {
 public:
  OpenReaderWorker(Napi::Env env, ReaderOptions options) : PromiseWorker(env), options_(std::move(options)) {}

 protected:
  void Run() override { reader_ = std::make_shared<MotionReader>(options_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object object = env.GetInstanceData<AddonData>()->reader.New({});
    ReaderWrap* wrap = ReaderWrap::Unwrap(object);
    wrap->reader = reader_;
    wrap->options = options_;
    object.Set("summary", SummaryToJs(env, reader_->summary()));
    return object;
  }

 private:
  ReaderOptions options_;
  std::shared_ptr<MotionReader> reader_;
};

class ReadWorker : public PromiseWorker {
 public:
  ReadWorker(Napi::Env env, std::shared_ptr<MotionReader> reader, ReaderOptions options,
             std::shared_ptr<std::atomic<bool>> busy, size_t maxFrames)
      : PromiseWorker(env), reader_(std::move(reader)), options_(std::move(options)),
        busy_(std::move(busy)), maxFrames_(maxFrames) {}
  ~ReadWorker() override { busy_->store(false); }

 protected:
  void Run() override { reader_->Read(maxFrames_, batch_); }
  Napi::Value Result(Napi::Env env) override { return BatchToJs(env, batch_, options_); }

 private:
  std::shared_ptr<MotionReader> reader_;
  ReaderOptions options_;
  std::shared_ptr<std::atomic<bool>> busy_;
  size_t maxFrames_;
  ReadBatch batch_;
};

Napi::Value ReaderWrap::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  double requested = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 64;
  if (!(requested >= 1)) throw Napi::RangeError::New(env, "read() needs a positive frame count");
  if (!reader) throw Napi::Error::New(env, options.path + ": the reader is closed");
  bool expected = false;
  if (!busy->compare_exchange_strong(expected, true)) {
    throw Napi::Error::New(env, options.path + ": a read is already in progress on this reader");
  }
  return Start(new ReadWorker(env, reader, options, busy, static_cast<size_t>(requested)));
}

Napi::Value OpenReader(const Napi::CallbackInfo& info) {
  return Start(new OpenReaderWorker(info.Env(), ParseReaderOptions(ObjectArgument(info, 0))));
}

class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, std::string path, InputOptions inputOptions)
      : PromiseWorker(env), path_(std::move(path)), inputOptions_(std::move(inputOptions)) {}

 protected:
  void Run() override { result_ = Probe(path_, inputOptions_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("container", result_.container);
    o.Set("codec", result_.codec);
    o.Set("pixelFormat", result_.pixelFormat);
    o.Set("width", result_.width);
    o.Set("height", result_.height);
    o.Set("fps", result_.fps);
    o.Set("frameCount", static_cast<double>(result_.frameCount));
    o.Set("duration", result_.duration);
    o.Set("videoBytes", static_cast<double>(result_.videoBytes));
    o.Set("bitrate", result_.bitrate);
    o.Set("hasBFrames", result_.hasBFrames);
    o.Set("motionVectors", result_.motionVectors);
    o.Set("counted", result_.counted);
    return o;
  }

 private:
  std::string path_;
  InputOptions inputOptions_;
  ProbeResult result_;
};

Napi::Value ProbeFile(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "probe needs a path");
  InputOptions inputOptions = info.Length() > 1 && info[1].IsObject() ? InputOptionsOf(info[1].As<Napi::Object>()) : InputOptions();
  return Start(new ProbeWorker(info.Env(), info[0].As<Napi::String>().Utf8Value(), std::move(inputOptions)));
}

// buildGrid(columns, spec): the same MotionGrid as readMotionGrids, from vectors already in
// JavaScript (Int32Array columns). Synchronous: one frame is microseconds of work.
Napi::Value BuildGrid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object columns = ObjectArgument(info, 0);
  Napi::Object specObject = ObjectArgument(info, 1);
  GridSpec spec;
  spec.width = static_cast<int>(NumberOption(specObject, "width", 0));
  spec.height = static_cast<int>(NumberOption(specObject, "height", 0));
  spec.block = static_cast<int>(NumberOption(specObject, "block", 8));
  spec.source = static_cast<int>(NumberOption(specObject, "source", -1));
  spec.quarterPel = StringOption(specObject, "units", "pixels") == "quarter-pel";
  spec.topLeft = StringOption(specObject, "rule", "area") == "top-left";
  if (spec.width <= 0 || spec.height <= 0 || spec.block <= 0) {
    throw Napi::RangeError::New(env, "buildGrid needs a positive width, height and block");
  }
  const char* names[8] = {"source", "w", "h", "dstX", "dstY", "motionX", "motionY", "motionScale"};
  Napi::Int32Array arrays[8];
  size_t count = 0;
  for (int k = 0; k < 8; k++) {
    Napi::Value v = columns.Get(names[k]);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(env, std::string("buildGrid: column ") + names[k] + " must be an Int32Array");
    }
    arrays[k] = v.As<Napi::Int32Array>();
    if (k == 0) count = arrays[k].ElementLength();
    else if (arrays[k].ElementLength() != count) {
      throw Napi::RangeError::New(env, "buildGrid: columns differ in length");
    }
  }
  GridAccumulator grid;
  grid.Reset(spec);
  for (size_t i = 0; i < count; i++) {
    grid.Add(arrays[0][i], arrays[1][i], arrays[2][i], arrays[3][i], arrays[4][i], arrays[5][i],
             arrays[6][i], arrays[7][i]);
  }
  const size_t cells = static_cast<size_t>(spec.cells());
  std::vector<uint8_t> mask(cells);
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", spec.rows());
  out.Set("cols", spec.cols());
  if (spec.quarterPel) {
    std::vector<int16_t> data(2 * cells);
    grid.Finish(data.data(), data.data() + cells, mask.data());
    out.Set("data", Adopt(env, std::move(data)));
  } else {
    std::vector<float> data(2 * cells);
    grid.Finish(data.data(), data.data() + cells, mask.data());
    out.Set("data", Adopt(env, std::move(data)));
  }
  out.Set("mask", Adopt(env, std::move(mask)));
  return out;
}

}  // namespace

void InitReader(Napi::Env env, Napi::Object exports, AddonData& data) {
  data.reader = Napi::Persistent(ReaderWrap::Define(env));
  exports.Set("openReader", Napi::Function::New(env, OpenReader));
  exports.Set("probe", Napi::Function::New(env, ProbeFile));
  exports.Set("buildGrid", Napi::Function::New(env, BuildGrid));
}

}  // namespace mvclass
