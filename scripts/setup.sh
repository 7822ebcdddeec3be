#!/usr/bin/env bash
# One set-up for users, developers and CI: Debian packages, npm packages, the native addon and
# the TypeScript build. Safe to run again; each step says what failed and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== mvclass setup: %s\n' "$*"; }
fail() { printf '\nmvclass setup FAILED: %s\n' "$*" >&2; exit 1; }

# Build: FFmpeg 5.1's libraries and headers, pkg-config, a C++ toolchain.
# Tests and benches: the ffmpeg tools (an oracle), ffmpeg-doc (extract_mvs.c, the reference),
# OpenH264 (a second, independent H.264 decoder for the cropped streams), Chromium (the demo
# report is opened headless by a test).
# The CNNs: libtorch (CPU) with cmake, and OpenBLAS, whose Debian alternative replaces the
# reference BLAS that would make the fully connected layers 6-10x slower.
# HEVC vectors: curl and patch fetch and patch Debian's libde265 source (scripts/build-de265.sh).
# Fuzzing (scripts/fuzz.sh, whose regression run CI makes): clang with libFuzzer and the sanitizers.
# Scale-out (mvclass worker, --queue): Redis 7, which the tests start on ports of their own; it is
# not left running as a system service (docs/scale-out.md).
PACKAGES=(
  pkg-config build-essential python3 cmake curl ca-certificates patch xz-utils
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev
  ffmpeg ffmpeg-doc libopenh264-dev chromium
  libtorch-dev libopenblas0-pthread
  clang-14 libclang-rt-14-dev
  redis-server
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "need root (or sudo) to install: ${missing[*]}"
    SUDO=sudo
  fi
  $SUDO apt-get update -qq || fail "apt-get update did not reach Debian's archive"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || fail "apt-get install ${missing[*]}"
  # Debian starts the Redis it installs as a service where systemd runs; mvclass needs none running.
  if [[ " ${missing[*]} " == *" redis-server "* ]] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
else
  step "Debian packages present"
fi

command -v node >/dev/null || fail "Node.js 20 or newer is required (node not found)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "Node.js 20 or newer is required (found $(node --version))"
pkg-config --exists libavformat libavcodec libavutil libswscale \
  || fail "pkg-config cannot find FFmpeg's libraries (libavformat-dev & co.)"

step "npm packages"
npm ci --ignore-scripts --no-audit --no-fund || fail "npm ci"

step "libde265 from Debian's source (HEVC motion vectors)"
./scripts/build-de265.sh || fail "building libde265 (scripts/build-de265.sh)"

step "native codec addon (node-gyp, FFmpeg $(pkg-config --modversion libavcodec))"
npx --no-install node-gyp rebuild -j max >/tmp/mvclass-node-gyp.log 2>&1 \
  || { tail -40 /tmp/mvclass-node-gyp.log >&2; fail "node-gyp rebuild (full log: /tmp/mvclass-node-gyp.log)"; }

step "CNN addon (cmake-js, libtorch)"
npx --no-install cmake-js compile -d native/nn -O build-nn >/tmp/mvclass-cmake-js.log 2>&1 \
  || { tail -40 /tmp/mvclass-cmake-js.log >&2; fail "cmake-js compile of native/nn (full log: /tmp/mvclass-cmake-js.log)"; }
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')
case "$blas" in
  *openblas*) printf 'BLAS: %s\n' "$blas" ;;
  *) printf 'warning: libblas.so.3 is %s, not OpenBLAS: fully connected layers will be slow\n' "${blas:-unknown}" >&2 ;;
esac

step "TypeScript"
npm run --silent build:ts || fail "tsc"

step "ready: try  npx mvclass demo"
