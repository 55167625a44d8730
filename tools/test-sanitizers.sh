#!/usr/bin/env bash
# The whole test suite again, built with clang-14, AddressSanitizer and UndefinedBehaviorSanitizer
# into ./build-asan, and the libFuzzer targets of the message decoders (tests/fuzz) in the same
# tree: the library is built once with -fsanitize=fuzzer-no-link,address,undefined
# (-DMPIPLY_FUZZ=ON) and serves both. Any sanitizer report fails the test that caused it.
# Left out: the benchmark (timings mean nothing under ASan), the install tests (their consumers
# are built without sanitizers), the compile-fail tests (no code runs) and the Slurm tests (they
# run the normal build's jobs on a local cluster, and take minutes). The fuzz tests (label fuzz)
# fuzz for MPIPLY_FUZZ_SECONDS each (default 30); `ctest --test-dir build-asan -L fuzz` runs
# only them.
#   tools/test-sanitizers.sh [build|test]   (default: both, in that order)
# tools/test.sh runs `build` beside the normal suite and `test` after it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
step=${1:-all}
case $step in
  build|test|all) ;;
  *) echo "test-sanitizers: unknown step '$step'; give build, test or nothing (both)" >&2; exit 2 ;;
esac
# -O1 -g1: what the sanitizers' own documentation suggests (fast enough to run, line tables for
# the reports' stack traces), and it compiles several times faster than -O2 -g with UBSan. The
# test programs' own code (MPIPLY_TEST_OPTIMIZE) at -O0 -g1: it only drives the library, and
# compiles much faster than at -O1 under the sanitizers.
# clang-14 rather than the normal build's GCC: libFuzzer needs it, it compiles this code with the
# sanitizers faster than GCC does, and a second compiler's warnings and checks are worth having.
if [ "$step" != test ]; then
  for tool in clang-14 clang++-14; do
    command -v "$tool" >/dev/null || { echo "test-sanitizers: $tool is missing; run tools/setup.sh" >&2; exit 1; }
  done
  source tools/cmake-tree.sh
  configure_tree build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_COMPILER=clang-14 -DMPIPLY_SANITIZE=address,undefined -DMPIPLY_FUZZ=ON \
    -DMPIPLY_FUZZ_SECONDS="${MPIPLY_FUZZ_SECONDS:-30}" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
    -DMPIPLY_TEST_OPTIMIZE="-O0;-g1"
  cmake --build build-asan -j"$(nproc)"
fi
[ "$step" != build ] || exit 0
source tools/mpi-env.sh
# Open MPI's plugins stay loaded (tools/keep_loaded.cpp says why), so a leak Open MPI leaves
# is named by its first frames and tools/lsan.supp matches it with ASan's default fast unwinder;
# verify_asan_link_order=0 lets the preloaded library come before a shared libasan (GCC's way;
# clang links its runtime into the program).
c++ -std=c++20 -O2 -shared -fPIC -o build-asan/keep_loaded.so tools/keep_loaded.cpp   # no sanitizers
export LD_PRELOAD="$PWD/build-asan/keep_loaded.so${LD_PRELOAD:+ $LD_PRELOAD}"
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Six times as many ranks at once as cores (the normal suite has four): under the sanitizers a
# test's ranks wait even longer on start-up and on each other, and at four the suite kept the
# machine's cores about half idle (docs/testing.md).
ctest --test-dir build-asan --output-on-failure -j"${MPIPLY_SANITIZER_TEST_JOBS:-$((6 * $(nproc)))}" \
  --timeout 300 -LE 'bench|install|compile-fail|slurm'
