#!/usr/bin/env node
// npm's install hook for a packed mvclass (`npm install mvclass-<version>.tgz`). It builds what a
// source checkout's scripts/setup.sh builds, from Debian's packages (README, "Quick start"):
//   1. libde265 from Debian's source, for HEVC vectors (optional: without it HEVC files get an
//      error that says how to add it);
//   2. the codec addon with node-gyp (required: motion vectors are the product);
//   3. the CNN addon with cmake-js on libtorch (optional: only classification needs it).
// Each optional step that cannot run says why and what to run afterwards. A source checkout
// runs setup.sh instead (it installs with --ignore-scripts, so this hook never runs there).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (text) => process.stderr.write(`mvclass install: ${text}\n`);

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}
const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

// 1. libde265 (HEVC)
if (process.env.MVCLASS_NO_HEVC) {
  say('MVCLASS_NO_HEVC is set: HEVC vectors left out');
} else if (!has('cmake') || !has('curl') || !has('patch')) {
  say('HEVC vectors left out: building libde265 needs cmake, curl and patch (apt-get install cmake curl patch, then npm rebuild mvclass)');
} else if (!run('bash', ['scripts/build-de265.sh'])) {
  say('HEVC vectors left out: scripts/build-de265.sh failed (see above); fix it, then npm rebuild mvclass');
}

// 2. The codec addon: node-gyp comes with npm and is on PATH inside npm scripts.
if (!run('node-gyp', ['rebuild'])) {
  say('the codec addon did not build. It needs FFmpeg 5.1\'s headers, pkg-config and a C++ compiler: ' +
    'apt-get install pkg-config build-essential libavformat-dev libavcodec-dev libavutil-dev libswscale-dev, then npm rebuild mvclass');
  process.exit(1);
}

// 3. The CNN addon, where libtorch is installed (Debian's libtorch-dev, or MVCLASS_TORCH_DIR).
const torchConfigs = ['/usr/share/cmake/Torch', '/usr/lib/x86_64-linux-gnu/cmake/Torch', '/usr/lib/aarch64-linux-gnu/cmake/Torch'];
const torch = process.env.MVCLASS_TORCH_DIR || torchConfigs.find((dir) => existsSync(path.join(dir, 'TorchConfig.cmake')));
const cmakeJs = path.join(path.dirname(fileURLToPath(import.meta.resolve('cmake-js/package.json'))), 'bin', 'cmake-js');
if (!torch) {
  say('CNN addon not built: libtorch not found. Motion vectors work without it; for train/eval/classify/serve: apt-get install libtorch-dev libopenblas0-pthread, then npm rebuild mvclass');
} else if (!run(process.execPath, [cmakeJs, 'compile', '-d', 'native/nn', '-O', 'build-nn'])) {
  say('CNN addon not built: cmake-js compile of native/nn failed (see above); motion vectors work without it. Fix it, then npm rebuild mvclass');
}
