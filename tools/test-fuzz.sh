#!/usr/bin/env bash
# Fuzzes the message decoders with libFuzzer (tests/fuzz, docs/testing.md): builds the library
# and the fuzz targets with clang-14, ASan and UBSan into ./build-fuzz, then runs ctest -L fuzz:
# each target fuzzes for MPIPLY_FUZZ_SECONDS (default 30) from its seed corpus, and every kept
# crash input is replayed once. tools/test.sh builds it beside the normal suite and runs it after
# the sanitizer pass; clang-14 and its libFuzzer runtime come from tools/setup.sh. The library is
# built file by file here (no unity build, unlike ./build and ./build-asan), so every source is
# also shown to compile on its own.
#   tools/test-fuzz.sh [build|test]   (default: both, in that order)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step=${1:-all}
case $step in
  build|test|all) ;;
  *) echo "test-fuzz: unknown step '$step'; give build, test or nothing (both)" >&2; exit 2 ;;
esac
if [ "$step" != test ]; then
  for tool in clang-14 clang++-14; do
    command -v "$tool" >/dev/null || { echo "test-fuzz: $tool is missing; run tools/setup.sh" >&2; exit 1; }
  done
  launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_COMPILER=clang-14 -DMPIPLY_FUZZ=ON -DMPIPLY_BUILD_JOBS=OFF -DMPIPLY_INSTALL=OFF \
    -DMPIPLY_UNITY_BUILD=OFF -DMPIPLY_FUZZ_SECONDS="${MPIPLY_FUZZ_SECONDS:-30}" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" "${launcher[@]}"
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_executor fuzz_result
fi
[ "$step" != build ] || exit 0
ctest --test-dir build-fuzz --output-on-failure -j2 -L fuzz
