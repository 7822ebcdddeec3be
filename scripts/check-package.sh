#!/usr/bin/env bash
# The packed package, as a user installs it: `npm pack`, then in a scratch project
# `npm install <tarball>` (whose install hook builds libde265, the codec addon and the CNN addon),
# a TypeScript program compiled against the package's types (everything the README shows,
# imported from 'mvclass'), and run: vectors of a clip, and a CNN made through the CNN addon.
# CI runs it after the tests. Usage: scripts/check-package.sh [scratch-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${1:-$(mktemp -d /tmp/mvclass-package-XXXXXX)}
mkdir -p "$SCRATCH"
fail() { printf 'check-package FAILED: %s\n' "$*" >&2; exit 1; }

tarball=$(npm pack --silent --pack-destination "$SCRATCH" | tail -1)
[ -f "$SCRATCH/$tarball" ] || fail "npm pack wrote no tarball"
listing=$(tar -tzf "$SCRATCH/$tarball")
for f in package/scripts/build-de265.sh package/scripts/install.mjs package/binding.gyp package/native/nn/CMakeLists.txt \
  package/native/de265/layout.h package/dist/src/index.js package/dist/src/index.d.ts package/bin/mvclass.js; do
  grep -qx "$f" <<<"$listing" || fail "$tarball lacks ${f#package/}"
done
if grep -E '^package/(test|bench|build|build-nn|build-de265|build-fuzz|node_modules)/' <<<"$listing" | head -1 | grep -q .; then
  fail "$tarball carries build or test folders"
fi

app=$SCRATCH/app
rm -rf "$app"
mkdir -p "$app"
cd "$app"
printf '{"name":"consumer","version":"1.0.0","type":"module","private":true}\n' >package.json
printf '\n== npm install %s (builds the addons)\n' "$tarball"
npm install --no-audit --no-fund --prefer-offline "$SCRATCH/$tarball" 2>&1 | tail -20
[ -f node_modules/mvclass/build/Release/mvclass_codec.node ] || fail "the codec addon was not built by npm install"
[ -f node_modules/mvclass/build-nn/Release/mvclass_nn.node ] || fail "the CNN addon was not built by npm install"
[ -f node_modules/mvclass/build-de265/lib/libde265.so ] || fail "libde265 (HEVC vectors) was not built by npm install"

cat >consumer.ts <<'TS'
import { CnnModel, createServer, crop, decodeVideo, encodeFrames, MotionGrid, probe, readMotion, readMotionGrids, runSweep, sendFromEdge, type ServeOptions, type SweepOptions } from 'mvclass';

const clip = process.argv[2]!;
const info = await probe(clip);
let vectors = 0;
for await (const frame of readMotion(clip)) vectors += frame.vectors.length;
let hevcVectors = 0;
for await (const frame of readMotion(process.argv[3]!)) hevcVectors += frame.vectors.length;
let grids = 0;
for await (const { grid } of readMotionGrids(clip, { grid: 8 })) grids += grid instanceof MotionGrid ? 1 : 0;
const model = await CnnModel.create({ model: 'mv2d', classes: ['a', 'b'], frames: 4, size: 48, width: 0.25, fc: 64 });
const probabilities = await model.predict(new Float32Array(2 * 4 * 48 * 48));
const typed: Array<(o: ServeOptions | SweepOptions) => unknown> = [];
void typed;
console.log(JSON.stringify({ codec: info.codec, frames: info.frameCount, vectors, hevcVectors, grids, probabilities: probabilities.length, api: [createServer, crop, decodeVideo, encodeFrames, runSweep, sendFromEdge].map((f) => typeof f) }));
TS
# Node's types come from the checkout's devDependencies (a consumer brings its own).
printf '{"compilerOptions":{"target":"ES2022","module":"NodeNext","moduleResolution":"NodeNext","strict":true,"types":["node"],"typeRoots":["%s"]},"files":["consumer.ts"]}\n' \
  "$ROOT/node_modules/@types" >tsconfig.json
printf '\n== tsc against the package types\n'
"$ROOT/node_modules/.bin/tsc" -p tsconfig.json || fail "consumer.ts does not compile against the package's types"
ffmpeg -v error -y -f lavfi -i 'testsrc2=size=160x120:rate=25' -t 1 -c:v libx264 -bf 0 clip.mp4
ffmpeg -v error -y -f lavfi -i 'testsrc2=size=160x120:rate=25' -t 1 -c:v libx265 -x265-params log-level=none clip-hevc.mp4
out=$(node consumer.js clip.mp4 clip-hevc.mp4)
printf '%s\n' "$out"
node -e 'const o = JSON.parse(process.argv[1]); if (o.codec !== "h264" || o.frames !== 25 || !(o.vectors > 0) || !(o.hevcVectors > 0) || o.grids !== 25 || o.probabilities !== 2 || o.api.some((t) => t !== "function")) process.exit(1)' "$out" \
  || fail "the consumer program's results are wrong: $out"
printf '\ncheck-package: %s installs, builds both addons, compiles and runs a consumer (%s)\n' "$tarball" "$app"
