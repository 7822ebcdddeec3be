#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted bytes, with ASan and UBSan.
#
#   scripts/fuzz.sh <target> [--seconds N] [--jobs J]   build, make the seed corpus, fuzz
#   scripts/fuzz.sh regress [<target>...]                run the seeds and the committed
#                                                        regression inputs once (CI does this)
#   scripts/fuzz.sh build [<target>...]                  build only
#
# Targets (native ones are libFuzzer binaries built with Debian's clang):
#   h264-syntax  crop's own H.264 code: SPS/PPS/slice-header parsing, P-slice and PPS writing,
#                each written element read back and compared
#   crop         the whole crop path, FFmpeg demux + decode included, Annex-B and MP4 output
#   reader       MotionReader: vectors, grids, key frames on H.264, MPEG-4, MPEG-1/2, H.263/H.263+,
#                H.261, MS-MPEG-4, WMV1/2, FLV1, RealVideo, Snow and HEVC
#   manifest     the prepared cache's manifest reader (TypeScript; see bench/fuzz-manifest.ts)
#   regions      the per-video region file parser of --roi-file (TypeScript; see bench/regions-fuzz.ts)
#
# Work lives in build-fuzz/ (ignored by git): binaries, seeds/<target>, corpus/<target> (grown by
# the fuzzer and kept between runs), findings/<target> (crash-*, timeout-*, oom-*). A finding
# that is fixed gets its input committed under test/fuzz/<target>/ so `regress` keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/build-fuzz
NATIVE_TARGETS=(h264-syntax crop reader)
ALL_TARGETS=("${NATIVE_TARGETS[@]}" manifest regions)

die() { printf 'fuzz.sh: %s\n' "$*" >&2; exit 2; }

CXX=${CXX_FUZZ:-}
find_clang() {
  [ -n "$CXX" ] && return
  for c in clang++ clang++-14 clang++-15 clang++-16; do
    if command -v "$c" >/dev/null && echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long){return 0;}' |
      "$c" -x c++ -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
      CXX=$c
      return
    fi
  done
  die "no clang with libFuzzer: run ./scripts/setup.sh (it installs Debian's clang-14 and libclang-rt-14-dev)"
}

# Sources of each target: the harness plus the codec files it needs (no N-API bindings).
sources() {
  case $1 in
    h264-syntax) echo native/fuzz/fuzz_h264_syntax.cc native/codec/h264/syntax.cc native/codec/h264/pslice.cc ;;
    crop) echo native/fuzz/fuzz_crop.cc native/codec/crop.cc native/codec/common.cc native/codec/hevc.cc \
      native/codec/h264/syntax.cc native/codec/h264/pslice.cc ;;
    reader) echo native/fuzz/fuzz_reader.cc native/codec/reader.cc native/codec/common.cc native/codec/grid.cc \
      native/codec/keyframes.cc native/codec/hevc.cc ;;
    *) die "unknown native target $1" ;;
  esac
}

build() {
  local target=$1 bin=$WORK/bin/fuzz-$1
  find_clang
  mkdir -p "$WORK/bin"
  local srcs
  read -r -a srcs <<<"$(sources "$target")"
  # Rebuild only when a source or header changed since the binary was made.
  if [ -x "$bin" ] && [ -z "$(find native/codec native/fuzz native/de265 scripts/fuzz.sh -newer "$bin" -print -quit)" ]; then
    return
  fi
  local flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    $(pkg-config --cflags libavformat libavcodec libavutil libswscale))
  local libs=($(pkg-config --libs libavformat libavcodec libavutil libswscale))
  if [ -f build-de265/lib/libde265.so ]; then
    flags+=(-DMVCLASS_WITH_DE265 -isystem build-de265/include)
    libs+=(-Lbuild-de265/lib -lde265 "-Wl,-rpath,$ROOT/build-de265/lib")
  fi
  printf 'fuzz.sh: building %s with %s\n' "$target" "$CXX" >&2
  "$CXX" "${flags[@]}" -o "$bin.tmp" "${srcs[@]}" "${libs[@]}"
  mv "$bin.tmp" "$bin"
}

# Small, varied valid inputs, made with the ffmpeg tool (an oracle here, as in the tests).
seeds() {
  local target=$1 dir=$WORK/seeds/$1
  [ -d "$dir" ] && return
  command -v ffmpeg >/dev/null || die "the ffmpeg tool is needed to make seed inputs (./scripts/setup.sh installs it)"
  mkdir -p "$dir.tmp"
  local src=(-f lavfi -i 'mandelbrot=size=64x48:rate=25,format=yuv420p' -frames:v 6)
  local big=(-f lavfi -i 'testsrc2=size=128x96:rate=25,format=yuv420p' -frames:v 6)
  mk() { ffmpeg -v error -y "$@" </dev/null; }
  mk "${src[@]}" -c:v libx264 -bf 0 -x264-params qp=30 -f h264 "$dir.tmp/cabac.264"
  mk "${src[@]}" -c:v libx264 -bf 0 -x264-params cabac=0:slices=3:partitions=all:qp=25 -f h264 "$dir.tmp/cavlc-slices.264"
  mk "${src[@]}" -c:v libx264 -bf 0 -refs 3 -x264-params weightp=2:qp=28 -f h264 "$dir.tmp/refs-weightp.264"
  mk "${src[@]}" -c:v libx264 -bf 0 -profile:v baseline -x264-params qp=35 -f h264 "$dir.tmp/baseline.264"
  if [ "$target" != h264-syntax ]; then
    mk "${src[@]}" -c:v libx264 -bf 0 -x264-params qp=30 "$dir.tmp/cabac.mp4"
    mk "${src[@]}" -c:v libx264 -bf 2 -x264-params qp=30 -f h264 "$dir.tmp/bframes.264"
  fi
  if [ "$target" = reader ]; then
    mk "${src[@]}" -c:v mpeg4 -bf 1 -q:v 5 "$dir.tmp/mpeg4.avi"
    mk "${src[@]}" -c:v mpeg2video -bf 1 -q:v 5 -f mpeg2video "$dir.tmp/mpeg2.m2v"
    mk "${src[@]}" -c:v mpeg1video -q:v 5 -f mpeg1video "$dir.tmp/mpeg1.m1v"
    mk "${big[@]}" -c:v h263 -q:v 5 -f h263 "$dir.tmp/h263.h263"
    mk "${src[@]}" -c:v libx265 -x265-params log-level=none:bframes=1 -f hevc "$dir.tmp/hevc.hevc"
    mk "${src[@]}" -c:v libx265 -x265-params log-level=none:bframes=0 "$dir.tmp/hevc.mp4"
    # The other codecs whose FFmpeg decoders export vectors (accepted since issue 13), in their usual containers.
    local qcif=(-f lavfi -i 'testsrc2=size=176x144:rate=25,format=yuv420p' -frames:v 3)
    mk "${src[@]}" -c:v msmpeg4 -q:v 5 "$dir.tmp/msmpeg4v3.avi"
    mk "${src[@]}" -c:v msmpeg4v2 -q:v 5 "$dir.tmp/msmpeg4v2.avi"
    mk "${src[@]}" -c:v wmv1 -q:v 5 "$dir.tmp/wmv1.asf"
    mk "${src[@]}" -c:v wmv2 -q:v 5 "$dir.tmp/wmv2.wmv"
    mk "${src[@]}" -c:v flv -q:v 5 "$dir.tmp/flv1.flv"
    mk "${src[@]}" -c:v h263p -q:v 5 "$dir.tmp/h263p.avi"
    mk "${qcif[@]}" -c:v h261 -q:v 5 -f h261 "$dir.tmp/h261.h261"
    mk "${src[@]}" -c:v rv20 -q:v 5 "$dir.tmp/rv20.rm"
    mk "${src[@]}" -c:v snow -q:v 5 "$dir.tmp/snow.nut"
  fi
  mv "$dir.tmp" "$dir"
}

fuzz() {
  local target=$1 seconds=$2 jobs=$3
  if [ "$target" = manifest ]; then
    npm run --silent build:ts
    exec node dist/bench/fuzz-manifest.js --seconds "$seconds"
  fi
  if [ "$target" = regions ]; then
    npm run --silent build:ts
    exec node dist/bench/regions-fuzz.js --seconds "$seconds"
  fi
  build "$target"
  seeds "$target"
  local corpus=$WORK/corpus/$target findings=$WORK/findings/$target
  mkdir -p "$corpus" "$findings"
  local regress=()
  [ -d "test/fuzz/$target" ] && regress=("test/fuzz/$target")
  # -timeout: one input running 10 s is a hang; -rss_limit_mb / -malloc_limit_mb: one input
  # needing a GB is a finding (crop's parser used to allocate gigabytes from a 24 KB upload).
  local opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/")
  cd "$WORK"
  if [ "$jobs" -gt 1 ]; then opts+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); fi
  # A 32 MB quarantine, not ASan's 256: FFmpeg (uninstrumented) allocates and frees large
  # buffers while probing odd streams, and a full quarantine counted against -rss_limit_mb made
  # a 3.7 KB input that ffprobe reads in 56 MB look like a 2 GB "out-of-memory".
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$WORK/bin/fuzz-$target" "${opts[@]}" "$corpus" "$WORK/seeds/$target" "${regress[@]/#/$ROOT/}"
}

# Every seed and committed regression input once, under ASan and UBSan: fails on any finding.
regress() {
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
  for t in "${targets[@]}"; do
    if [ "$t" = manifest ]; then
      npm run --silent build:ts
      node dist/bench/fuzz-manifest.js --seconds 20
      continue
    fi
    if [ "$t" = regions ]; then
      npm run --silent build:ts
      node dist/bench/regions-fuzz.js --seconds 20
      continue
    fi
    build "$t"
    seeds "$t"
    local dirs=("$WORK/seeds/$t")
    [ -d "test/fuzz/$t" ] && dirs+=("$ROOT/test/fuzz/$t")
    printf 'fuzz.sh: regression inputs of %s\n' "$t" >&2
    (cd "$WORK" && ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32 "$WORK/bin/fuzz-$t" -runs=0 -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=1024 "${dirs[@]}")
  done
}

[ $# -ge 1 ] || die "usage: scripts/fuzz.sh <${ALL_TARGETS[*]// /|}|regress|build> [--seconds N] [--jobs J]"
cmd=$1
shift
case $cmd in
  regress) regress "$@" ;;
  build)
    [ $# -gt 0 ] || set -- "${NATIVE_TARGETS[@]}"
    for t in "$@"; do build "$t"; done
    ;;
  *)
    printf '%s\n' "${ALL_TARGETS[@]}" | grep -qx -- "$cmd" || die "unknown target $cmd (targets: ${ALL_TARGETS[*]})"
    seconds=60 jobs=1
    while [ $# -gt 0 ]; do
      case $1 in
        --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
        --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
        *) die "unknown option $1" ;;
      esac
    done
    [[ $seconds =~ ^[1-9][0-9]*$ ]] || die "Expected a positive integer for --seconds but received \"$seconds\""
    [[ $jobs =~ ^[1-9][0-9]*$ ]] || die "Expected a positive integer for --jobs but received \"$jobs\""
    fuzz "$cmd" "$seconds" "$jobs"
    ;;
esac
