#!/usr/bin/env bash
# Builds the optional native BLAS addon (libs/ml/native/heap_blas.c -> build/Release/heap_blas.node):
# N-API + OpenBLAS, compiled from source here (nothing is downloaded). Needs a C compiler, Node's
# headers and Debian's libopenblas-dev (`apt-get install libopenblas-dev`). Where any is missing it
# says so and exits 0: the ML engine then runs its wasm kernels, only slower. Rebuilds only when the
# source changed.
set -uo pipefail
cd "$(dirname "$0")/../libs/ml/native"
out=build/Release/heap_blas.node
stamp=build/.source-stamp
sum=$(sha256sum heap_blas.c | cut -d' ' -f1)
if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then exit 0; fi
# The folder exists even when nothing is built, so images can copy it unconditionally.
mkdir -p build/Release
node_include="$(dirname "$(dirname "$(command -v node)")")/include/node"
# One line: why, what it costs, how to get it.
skip() {
  echo "[modelsmith] native BLAS addon not built ($1): training runs on the slower wasm kernels (~2x); to get the fast kernels CI uses: $2, then run this again"
  exit 0
}
command -v cc >/dev/null 2>&1 || skip "no C compiler" "apt-get install gcc libopenblas-dev"
[ -f "$node_include/node_api.h" ] || skip "no Node headers at $node_include" "install Node with its headers (the official tarball or nodesource package)"
echo '#include <cblas.h>' | cc -E - >/dev/null 2>&1 || skip "no OpenBLAS headers (cblas.h)" "apt-get install libopenblas-dev"
tmp=build/Release/heap_blas.new.node
if cc -O3 -fno-math-errno -std=c11 -Wall -Wextra -Werror -shared -fPIC -I"$node_include" heap_blas.c -lopenblas -lm \
  -o "$tmp" && node -e "require('./$tmp').config()"; then
  mv "$tmp" "$out" && echo "$sum" > "$stamp"
  echo "[modelsmith] native BLAS addon built: $(node -e "console.log(require('./$out').config())")"
else
  rm -f "$tmp"
  skip "compile or load failed" "check the compiler output above"
fi
