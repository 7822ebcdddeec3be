#!/usr/bin/env bash
# bench/gpu/pack.sh: what bench/gpu/run.sh needs on a GPU machine that has no Node: .gpu/node.xz
# (this machine's node, xz-compressed) and .gpu/node-headers (Node's four N-API headers), beside a
# fresh dist/ (npm run build:ts). Run from the repository root, where node and npm are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
mkdir -p .gpu/node-headers
xz -6 -T0 <"$(command -v node)" >.gpu/node.xz.tmp && mv .gpu/node.xz.tmp .gpu/node.xz
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do
  src=$(ls "$HOME/.cmake-js/node-x64/$(node --version)/$h" "/usr/include/node/$h" 2>/dev/null | head -1 || true)
  [[ -n $src ]] || { echo "pack.sh: no $h (npm run build:nn once, or install libnode-dev)" >&2; exit 1; }
  cp "$src" .gpu/node-headers/
done
npm run build:ts >/dev/null
echo "pack.sh: .gpu/ ($(du -sh .gpu | cut -f1)) and dist/ ready; carry .gpu, dist, node_modules/node-addon-api (and a prepared cache for the epoch)"
