#!/usr/bin/env bash
# bench/gpu/run.sh: builds native/nn against a GPU machine's CUDA libtorch (the one inside its
# PyTorch) and runs bench/gpu.ts there, then PyTorch's peer (bench/gpu/peer.py). For a machine
# with PyTorch, nvcc and cmake but no Node and no network: `bench/gpu/pack.sh` first, here, makes
# .gpu/ (a Node binary, Node's N-API headers), and these travel with the checkout:
#   .gpu  dist  node_modules/node-addon-api  and, for the epoch from real footage, a prepared cache
# Run from the repository root:  OUT=<folder> [CACHE=<prepared cache>] bash bench/gpu/run.sh
# Writes $OUT/results.md (tables), $OUT/gpu.json (numbers), $OUT/build.log and $OUT/run.log.
# The build follows the recipe measured on an H200 (PyTorch 2.11+cu130): torch's CMake config
# with its libraries pinned to the PyTorch install, nvcc and cuDNN located for that config, and a
# plain g++ build as the fallback (it needs no CUDA toolkit).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
BUILD_LOG=$OUT/build.log RUN_LOG=$OUT/run.log
: >"$BUILD_LOG"; : >"$RUN_LOG"; : >"$OUT/results.md"
PY=${PYTHON:-python3} JOBS=${JOBS:-$(nproc)} BUDGET=${BUDGET:-480}
START=$SECONDS
say() { echo "[gpu/run.sh +$((SECONDS - START))s] $*" | tee -a "$BUILD_LOG"; }
left() { local l=$((BUDGET - (SECONDS - START) - ${2:-0})); ((l < $1)) || l=$1; ((l >= 20)) || l=20; echo "$l"; }
cd "$ROOT"

# ---- node ----
mkdir -p .gpu/bin
if ! command -v node >/dev/null; then
  [[ -e .gpu/node.xz ]] || { say "FATAL: no node here and no .gpu/node.xz (run bench/gpu/pack.sh where node is)"; exit 2; }
  if command -v xz >/dev/null; then xz -dc .gpu/node.xz >.gpu/bin/node
  else "$PY" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' .gpu/node.xz .gpu/bin/node; fi
  chmod +x .gpu/bin/node
  export PATH=$ROOT/.gpu/bin:$PATH
fi
say "node $(node --version); $(nproc) cores; $(nvidia-smi -L 2>/dev/null | head -1)"

# ---- torch and CUDA ----
eval "$("$PY" - <<'EOF'
import os, torch
print(f"TORCH_VER={torch.__version__}")
print(f"TORCH_CUDA={torch.version.cuda or ''}")
print(f"TORCH_DIR={os.path.dirname(torch.__file__)}")
print(f"TORCH_PREFIX={torch.utils.cmake_prefix_path}")
print(f"TORCH_ABI={int(torch._C._GLIBCXX_USE_CXX11_ABI)}")
EOF
)"
[[ -n ${TORCH_PREFIX:-} ]] || { say "FATAL: $PY has no torch"; exit 2; }
export MVCLASS_TORCH_DIR=$TORCH_PREFIX
say "torch $TORCH_VER, CUDA ${TORCH_CUDA:-none}, $TORCH_DIR"
# TorchConfig's find_library searches system folders first: pinned to this torch.
ARGS=(-DTORCH_LIBRARY="$TORCH_DIR/lib/libtorch.so" -Dc10_LIBRARY="$TORCH_DIR/lib/libc10.so")
[[ -e $TORCH_DIR/lib/libc10_cuda.so ]] && ARGS+=(-DC10_CUDA_LIBRARY="$TORCH_DIR/lib/libc10_cuda.so")
[[ -e $TORCH_DIR/lib/libkineto.so ]] && ARGS+=(-Dkineto_LIBRARY="$TORCH_DIR/lib/libkineto.so")
CC_ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' ')
[[ $CC_ARCH =~ ^[0-9]+\.[0-9]+$ ]] || CC_ARCH=9.0
NV=$("$PY" -c 'import nvidia;print(list(nvidia.__path__)[0])' 2>/dev/null)
NVCC="" CUDA_ROOT=""
if [[ -n $TORCH_CUDA ]]; then
for c in "${CUDACXX:-}" "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc $(ls -d /usr/local/cuda-*/bin/nvcc 2>/dev/null | sort -V -r) ${NV:+$NV/cu13/bin/nvcc}; do
  [[ -n $c && -x $c ]] && { NVCC=$(readlink -f "$c"); break; }
done
if [[ -n $NVCC ]]; then
  CUDA_ROOT=$(dirname "$(dirname "$NVCC")")
  export PATH=$CUDA_ROOT/bin:$PATH CUDA_HOME=$CUDA_ROOT CUDACXX=$NVCC TORCH_CUDA_ARCH_LIST=$CC_ARCH
  ARGS+=(-DCMAKE_CUDA_COMPILER="$NVCC" -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_ROOT" -DCUDAToolkit_ROOT="$CUDA_ROOT"
         -DCMAKE_CUDA_ARCHITECTURES="${CC_ARCH/./}" -DCMAKE_CUDA_STANDARD=17 -DTORCH_CUDA_ARCH_LIST="$CC_ARCH")
fi
for d in "${CUDA_ROOT:-/nonexistent}" /usr /usr/local/cuda ${NV:+$NV/cudnn} ${NV:+$NV/cu13}; do
  i=$(ls "$d"/include/cudnn.h 2>/dev/null | head -1)
  l=$(ls "$d"/lib/libcudnn.so "$d"/lib64/libcudnn.so "$d"/lib/libcudnn.so.[0-9]* "$d"/lib64/libcudnn.so.[0-9]* 2>/dev/null | head -1)
  [[ -n $i && -n $l ]] && { ARGS+=(-DCUDNN_LIBRARY_PATH="$l" -DCUDNN_INCLUDE_PATH="$(dirname "$i")"); break; }
done
fi
say "nvcc ${NVCC:-none}, compute capability $CC_ARCH"

# ---- build native/nn into build-nn/Release (where src/nn/native.ts looks) ----
ADDON_DIR=$ROOT/build-nn/Release ADDON=$ROOT/build-nn/Release/mvclass_nn.node
rm -rf "$ROOT/build-nn" && mkdir -p "$ADDON_DIR"
BUILT=""
if command -v cmake >/dev/null; then
  GEN=(-G Ninja); command -v ninja >/dev/null || GEN=(-G "Unix Makefiles")
  if timeout "$(left 180 240)" cmake -S native/nn -B .gpu/build "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_JS_INC="$ROOT/.gpu/node-headers" \
       -DCMAKE_JS_SRC= -DCMAKE_JS_LIB= -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$ADDON_DIR" "${ARGS[@]}" >>"$BUILD_LOG" 2>&1 &&
     timeout "$(left 300 200)" cmake --build .gpu/build -j "$JOBS" >>"$BUILD_LOG" 2>&1; then
    BUILT="cmake (native/nn/CMakeLists.txt)"
  else
    say "cmake build failed; its errors:"; grep -E -i -m 40 'error|undefined reference' "$BUILD_LOG" | tee -a "$OUT/results.md"
  fi
fi
if [[ -z $BUILT ]] || { [[ -n $TORCH_CUDA ]] && ! ldd "$ADDON" 2>/dev/null | grep -q libtorch_cuda; }; then
  # g++ straight against the PyTorch install; --no-as-needed keeps libtorch_cuda.so loaded, without
  # which CUDA's kernels never register.
  say "g++ build against $TORCH_DIR"
  mkdir -p .gpu/gxx
  FLAGS=(-std=c++17 -O2 -DNDEBUG -fPIC -D_GLIBCXX_USE_CXX11_ABI="$TORCH_ABI" -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -I"$ROOT/.gpu/node-headers"
         -I"$ROOT/node_modules/node-addon-api" -I"$TORCH_DIR/include" -I"$TORCH_DIR/include/torch/csrc/api/include")
  ok=1
  # Every source CMakeLists.txt builds (the addon, the allocator, the networks, X3D-S, the session).
  for src in native/nn/*.cc; do f=$(basename "$src" .cc); timeout "$(left 300 200)" g++ "${FLAGS[@]}" -c "$src" -o ".gpu/gxx/$f.o" >>"$BUILD_LOG" 2>&1 & done
  for j in $(jobs -p); do wait "$j" || ok=0; done
  ((ok)) && g++ -shared -o "$ADDON" .gpu/gxx/*.o -L"$TORCH_DIR/lib" -Wl,--no-as-needed $([[ -e $TORCH_DIR/lib/libtorch_cuda.so ]] && echo -ltorch_cuda -lc10_cuda) -ltorch -ltorch_cpu -lc10 -Wl,--as-needed \
    -Wl,-rpath,"$TORCH_DIR/lib" >>"$BUILD_LOG" 2>&1 && BUILT="g++" ||
    { say "g++ build failed:"; grep -E -i -m 40 'error|undefined reference' "$BUILD_LOG" | tee -a "$OUT/results.md"; exit 1; }
fi
say "addon built by $BUILT"

# ---- the runs ----
say "bench/gpu.ts ..."
(OUT=$OUT THREADS=$(nproc) timeout "$(left 420 90)" node dist/bench/gpu.js) >>"$RUN_LOG" 2>&1
RC=$?
say "bench/gpu.ts exited $RC"
if [[ -z ${ONLY:-} ]]; then
  say "peer.py ..."
  (OUT=$OUT timeout "$(left 180 5)" "$PY" bench/gpu/peer.py) >>"$RUN_LOG" 2>&1 || say "peer.py exited $?"
fi
echo "total $((SECONDS - START)) s; addon built by $BUILT; torch $TORCH_VER, CUDA ${TORCH_CUDA:-none}" >>"$OUT/results.md"
exit $RC
