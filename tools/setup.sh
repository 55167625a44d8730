#!/usr/bin/env bash
# Install what mpiply needs on Debian 12 (only what is missing), then configure and build
# into ./build. Safe to run again and again: with everything present it only rebuilds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

packages=(build-essential cmake libopenmpi-dev openmpi-bin libboost-mpi-dev
          libboost-serialization-dev libboost-program-options-dev libfmt-dev catch2
          nlohmann-json3-dev libsqlite3-dev libxxhash-dev clang-14 libclang-rt-14-dev
          python3-mpi4py python3-ipyparallel python3-distributed parallel chromium python3 pkgconf
          libhwloc-dev lld ninja-build)
# clang-14 and libclang-rt-14-dev: the sanitizer and libFuzzer build of tools/test-sanitizers.sh (-fsanitize=fuzzer links
# libclang-rt's libclang_rt.fuzzer; libfuzzer-14-dev, the standalone libFuzzer.a, is not needed).
# nlohmann-json3-dev: timeline files and the bench's --json output.
# libsqlite3-dev: the durable task database (src/taskdb/task_db*).
# python3-mpi4py, python3-ipyparallel, python3-distributed: only for the peers' bench
# (jobs/bench/peers, docs/benchmarks.md), which measures mpi4py.futures, ipyparallel and Dask
# beside mpiply; nothing of mpiply uses them, and the script skips a peer that is missing.
# parallel: GNU parallel, only for tests/farm (case 'gnu'), which runs it and jobs/farm on the
# same inputs and compares joblogs, exit status and -k output; skipped where it is missing.
# chromium: the test report-chromium renders a run's HTML report (src/report/) in headless
# Chromium and checks its DOM and screenshot (tests/report/check_report.py); python3 runs that
# check and dbinfo's export check. Without them those tests are skipped or not registered.
# pkgconf: pkg-config, for the install-pkgconfig and install-deb tests (a consumer built with
# `pkg-config --cflags --libs mpiply`) and for users who build without CMake.
# lld: LLVM's linker; the build links its many test and job programs with it when it is there
# (CMakeLists.txt, MPIPLY_LLD), in about half the CPU time of GNU ld.
# ninja-build: the build trees are generated for Ninja (tools/cmake-tree.sh), which builds this
# project in less time than CMake's Makefiles.
# libxxhash-dev: XXH3 checksums of the task database's stored results and the build identity's
# fallback hash (src/taskdb/checksum.cpp, src/runtime/build_id.cpp), used header-only.

# The Slurm daemons and client, for the tests that run slurm/ on a throw-away local cluster
# (tests/slurm). Without recommends: the set the local-cluster recipe was verified with.
slurm_packages=(slurmctld slurmd slurm-client munge)

# dpkg-query is the cheap, offline check; apt is touched only if something is missing.
missing_of() {
  local p status
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || echo "$p"
  done
}
mapfile -t missing < <(missing_of "${packages[@]}")
mapfile -t missing_slurm < <(missing_of "${slurm_packages[@]}")

if [ ${#missing[@]} -gt 0 ] || [ ${#missing_slurm[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} ${missing_slurm[*]}" >&2
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]} ${missing_slurm[*]}" >&2; exit 1; }
    sudo=(sudo -E)   # -E keeps DEBIAN_FRONTEND
  fi
  "${sudo[@]}" apt-get update
  # With recommends: the configuration the tests are run against (Open MPI plugins and all).
  if [ ${#missing[@]} -gt 0 ]; then "${sudo[@]}" apt-get install -y "${missing[@]}"; fi
  # The packages may try to start their system services; ours never use them (tests/slurm
  # starts its own daemons with their own configuration, socket and ports).
  if [ ${#missing_slurm[@]} -gt 0 ]; then
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing_slurm[@]}"
  fi
fi

packages_s=$SECONDS
# RelWithDebInfo's -O2 with line tables only (-g1): backtraces, perf and a sanitizer's report
# still name file and line, and the build takes less time than with full -g (docs/testing.md).
source tools/cmake-tree.sh
configure_tree build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
cmake --build build -j"$(nproc)"
# For tools/test.sh's summary, and for anyone asking where set-up's time went.
printf '%-32s %5d s\n' "packages" "$packages_s" "configure and build" $((SECONDS - packages_s)) \
  | tee build/setup-times
