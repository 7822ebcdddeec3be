// libFuzzer target: MotionReader (readMotion, grids, key frames) on any bytes: H.264, MPEG-4,
// MPEG-1/2, H.263 through FFmpeg, HEVC through libde265, whichever the bytes look like. Vectors,
// an 8x8 MotionGrid and resized key frames are all asked for, so every consumer of decoded
// frames runs.
#include <cstdint>
#include <string>

#include "../codec/common.h"
#include "../codec/reader.h"
#include "scratch.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvclass::InstallLogCallback();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = ScratchPath("reader");
  if (!WriteScratch(input, data, size)) return 0;
  mvclass::ReaderOptions options;
  options.path = input;
  options.gridBlock = size % 2 ? 8 : 16;
  options.gridQuarterPel = size % 3 == 0;
  options.keyFrames = true;
  options.keyWidth = 32;
  options.keyHeight = 24;
  try {
    mvclass::MotionReader reader(options);
    mvclass::ReadBatch batch;
    for (int batches = 0; !batch.done && batches < 1000; batches++) {
      batch = mvclass::ReadBatch();
      reader.Read(16, batch);
    }
  } catch (const mvclass::CodecError&) {
  }
  return 0;
}
