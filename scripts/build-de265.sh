#!/usr/bin/env bash
# Builds libde265 (the HEVC decoder whose per-block motion the codec addon reads) from Debian's
# source: the upstream tarball plus the Debian revision's patch series, both pinned by SHA-256.
# mvclass reads libde265's private headers, which are only valid for the exact source the library
# was compiled from, so the library is built here, next to those headers, into build-de265/:
#   build-de265/include/libde265/*.h   every header of that source (private ones included)
#   build-de265/lib/libde265.so*       the shared library the addon links (LGPL-3.0: replaceable)
# A layout check compiled against the installed headers must agree with the library, or this
# script fails. Safe to run again: a finished build with the same pins is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.0.11
REVISION=1+deb12u3
POOL=pool/main/libd/libde265
ORIG=libde265_${VERSION}.orig.tar.gz
ORIG_SHA256=2f8f12cabbdb15e53532b7c1eb964d4e15d444db1be802505e6ac97a25035bab
ORIG_URLS=(
  "http://deb.debian.org/debian/$POOL/$ORIG"
  "http://snapshot.debian.org/file/107e0bc48b2748adfd535e15186d0f84a6e152fe"
)
# A security revision's .dsc is not always served; its debian.tar.xz (with the patches) is. The
# security pool drops it once a newer revision is out; the main pool takes it at the next point
# release; snapshot.debian.org keeps every file by its SHA-1. The SHA-256 pin decides in all cases.
DEBIAN=libde265_${VERSION}-${REVISION}.debian.tar.xz
DEBIAN_SHA256=ccdd55e4bf2aa04155de5d00fbc677e4cf620d961fd4584a43a37f13993d0f94
DEBIAN_URLS=(
  "http://deb.debian.org/debian-security/pool/updates/main/libd/libde265/$DEBIAN"
  "http://deb.debian.org/debian/$POOL/$DEBIAN"
  "http://snapshot.debian.org/file/7c000fdb548133c97487f7f6f82188aa0b67a028"
)

OUT=build-de265
STAMP="$OUT/lib/.mvclass-de265-${VERSION}-${REVISION}"
fail() { printf 'build-de265 FAILED: %s\n' "$*" >&2; exit 1; }

if [ -f "$STAMP" ] && [ "$STAMP" -nt native/de265/layout.h ] && [ "$STAMP" -nt native/de265/CMakeLists.txt ] \
  && [ "$STAMP" -nt native/de265/layout.cc ] && [ "$STAMP" -nt scripts/build-de265.sh ]; then
  printf 'libde265 %s-%s already built in %s\n' "$VERSION" "$REVISION" "$OUT"
  exit 0
fi

mkdir -p "$OUT/download"
fetch() {  # name sha256 url...
  local name=$1 sha=$2 file="$OUT/download/$1"
  shift 2
  if [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then return 0; fi
  for url in "$@"; do
    if curl -fsSL --retry 2 --connect-timeout 20 -o "$file.part" "$url" \
      && echo "$sha  $file.part" | sha256sum -c --quiet - 2>/dev/null; then
      mv "$file.part" "$file"
      return 0
    fi
    printf 'build-de265: %s: not served or not the pinned file, trying the next source\n' "$url" >&2
  done
  rm -f "$file.part"
  fail "cannot download $name with SHA-256 $sha from: $*"
}
fetch "$ORIG" "$ORIG_SHA256" "${ORIG_URLS[@]}"
fetch "$DEBIAN" "$DEBIAN_SHA256" "${DEBIAN_URLS[@]}"

SRC="$OUT/src/libde265-$VERSION"
rm -rf "$OUT/src" "$OUT/build" "$OUT/include" "$OUT/lib"
mkdir -p "$OUT/src"
tar -xzf "$OUT/download/$ORIG" -C "$OUT/src"
tar -xJf "$OUT/download/$DEBIAN" -C "$SRC"
# Apply the series in order, as dpkg-source would (blank lines and comments skipped).
while read -r patch _; do
  case "$patch" in ''|'#'*) continue ;; esac
  patch -d "$SRC" -p1 -s --forward < "$SRC/debian/patches/$patch" || fail "patch $patch does not apply"
done < "$SRC/debian/patches/series"

cmake -S native/de265 -B "$OUT/build" -DDE265_SOURCE="$PWD/$SRC" -DCMAKE_BUILD_TYPE=Release >"$OUT/cmake.log" 2>&1 \
  || { tail -20 "$OUT/cmake.log" >&2; fail "cmake configure (log: $OUT/cmake.log)"; }
cmake --build "$OUT/build" -j "$(nproc)" >>"$OUT/cmake.log" 2>&1 \
  || { tail -30 "$OUT/cmake.log" >&2; fail "compiling libde265 (log: $OUT/cmake.log)"; }

mkdir -p "$OUT/include/libde265" "$OUT/lib"
cp "$SRC"/libde265/*.h "$OUT/include/libde265/"
cp "$OUT/build/libde265/libde265/de265-version.h" "$OUT/include/libde265/"
cp -P "$OUT/build/libde265/libde265/"libde265.so* "$OUT/lib/"
"$OUT/build/layout_check" || fail "the libde265 headers do not describe the library built from them"
touch "$STAMP"
