// libFuzzer target: the whole crop path (FFmpeg demuxing and decoding with exported vectors,
// crop's parser and rewriter, the Annex-B writer) on any bytes, as the service runs it on an
// upload. The input goes through a file because crop, like the service, opens a path.
#include <cstdint>
#include <string>

#include "../codec/common.h"
#include "../codec/crop.h"
#include "scratch.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mvclass::InstallLogCallback();  // FFmpeg's warnings go to the job's sink, not to stderr
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = ScratchPath("crop", ".in");
  if (!WriteScratch(input, data, size)) return 0;
  mvclass::CropOptions options;
  options.input = input;
  options.output = ScratchPath("crop", ".out.264");
  options.annexB = true;
  try {
    mvclass::CropH264(options);
  } catch (const mvclass::CodecError&) {
    // Refused with a message: the expected answer to most mutated inputs.
  }
  // An MP4 output on every 8th input: the muxer path frees what it allocates too.
  if (size % 8 == 0) {
    options.output = ScratchPath("crop", ".out.mp4");
    options.annexB = false;
    try {
      mvclass::CropH264(options);
    } catch (const mvclass::CodecError&) {
    }
  }
  return 0;
}
