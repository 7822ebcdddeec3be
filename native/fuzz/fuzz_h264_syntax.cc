// libFuzzer target: crop's own H.264 syntax code, without FFmpeg. The input is read as an
// Annex-B stream; parameter sets are learnt as crop learns them, every slice header is parsed,
// and each P slice is written back (header, CAVLC slice data for motion drawn from the input,
// the CAVLC twin PPS). What is written must parse back to the same fields: a mismatch aborts,
// so the target checks the writer as well as the reader's bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "../codec/h264/bits.h"
#include "../codec/h264/pslice.h"
#include "../codec/h264/syntax.h"

using namespace mvclass::h264;

namespace {

std::vector<std::vector<uint8_t>> SplitAnnexB(const uint8_t* data, size_t size) {
  std::vector<std::vector<uint8_t>> out;
  size_t i = 0, start = SIZE_MAX;
  while (i + 2 < size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != SIZE_MAX) out.emplace_back(data + start, data + i);
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start != SIZE_MAX && start < size) out.emplace_back(data + start, data + size);
  return out;
}

void Check(bool ok) {
  if (!ok) abort();  // a written field did not read back: a writer bug, reported as a crash
}

// Motion for every macroblock of the picture, drawn from the slice's own bytes.
std::vector<MbMotion> MotionFrom(const std::vector<uint8_t>& seed, int size) {
  std::vector<MbMotion> mbs(static_cast<size_t>(size));
  uint32_t state = 2166136261u;
  for (uint8_t b : seed) state = (state ^ b) * 16777619u;
  for (MbMotion& mb : mbs) {
    state = state * 1664525u + 1013904223u;
    mb.kind = static_cast<MbKind>((state >> 24) % 5);
    for (auto& mv : mb.mv) {
      state = state * 1664525u + 1013904223u;
      mv[0] = static_cast<int16_t>(state >> 16);
      state = state * 1664525u + 1013904223u;
      mv[1] = static_cast<int16_t>((state >> 16) % 512) - 256;
    }
  }
  return mbs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<int, Sps> sps;
  std::map<int, Pps> pps;
  for (const std::vector<uint8_t>& nal : SplitAnnexB(data, size)) {
    if (nal.empty()) continue;
    const int type = nal[0] & 0x1f;
    const int refIdc = (nal[0] >> 5) & 3;
    const std::vector<uint8_t> rbsp = Unescape(nal.data() + 1, nal.size() - 1);
    try {
      if (type == kNalSps) {
        Sps s = ParseSps(rbsp);
        sps[s.id] = s;
      } else if (type == kNalPps) {
        Pps p = ParsePps(rbsp, sps);
        pps[p.id] = p;
        // The twin must read back with the fields crop keeps.
        const std::vector<uint8_t> twin = WriteCavlcPps(p, 255 - p.id);
        Pps back = ParsePps(twin, sps);
        Check(back.id == 255 - p.id && back.spsId == p.spsId && !back.cabac && back.numRefIdxL0Default == 1 &&
              back.picInitQpMinus26 == p.picInitQpMinus26 && back.chromaQpIndexOffset == p.chromaQpIndexOffset &&
              back.secondChromaQpIndexOffset == p.secondChromaQpIndexOffset &&
              back.deblockingFilterControlPresent == p.deblockingFilterControlPresent);
      } else if (type == kNalSlice) {
        BitReader r(rbsp);
        const SliceHeader h = ParseSliceHeader(r, refIdc, sps, pps);
        if (h.kind() != 0) continue;
        const Pps& p = pps.at(h.ppsId);
        const Sps& s = sps.at(p.spsId);
        // Write the slice as crop does, with the CAVLC twin in place of its PPS.
        std::map<int, Pps> twins = pps;
        Pps twin = ParsePps(WriteCavlcPps(p, 255 - p.id), sps);
        twins[twin.id] = twin;
        BitWriter w;
        WriteSliceHeader(w, h, refIdc, s, p, twin.id);
        MotionField field(s.widthMbs, s.heightMbs);
        field.WriteSlice(w, MotionFrom(nal, s.sizeMbs()), h.firstMb, s.sizeMbs(), 1);
        w.trailing();
        BitReader back(w.bytes());
        const SliceHeader b = ParseSliceHeader(back, refIdc, sps, twins);
        Check(b.firstMb == h.firstMb && b.sliceType == h.sliceType && b.ppsId == twin.id && b.frameNum == h.frameNum &&
              b.pocLsb == h.pocLsb && b.sliceQpDelta == h.sliceQpDelta && b.disableDeblocking == h.disableDeblocking &&
              b.alphaOffset == h.alphaOffset && b.betaOffset == h.betaOffset && b.memoryOps.size() == h.memoryOps.size());
      }
    } catch (const BitstreamError&) {
      // A refused stream: what crop reports as "cannot parse the H.264 stream".
    }
  }
  return 0;
}
