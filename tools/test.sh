#!/usr/bin/env bash
# Set up and build (tools/setup.sh), run every test, then run the suite again under
# AddressSanitizer and UndefinedBehaviorSanitizer (tools/test-sanitizers.sh), then fuzz the
# message decoders (tools/test-fuzz.sh). Each test carries its own TIMEOUT; --timeout is only
# the backstop for one that forgot. Each phase's time is printed at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phases=()
phase() {  # phase NAME COMMAND...: runs it and keeps its time for the summary
  local name=$1 start=$SECONDS
  shift
  "$@"
  phases+=("$(printf '%-26s %5d s' "$name" $((SECONDS - start)))")
}
summary() {
  echo "== test.sh phases (total ${SECONDS} s):"
  local p
  for p in "${phases[@]}"; do echo "   $p"; done
}
trap summary EXIT

phase "setup and build" bash tools/setup.sh
source tools/mpi-env.sh
# Twice as many ranks at once as cores: most of a test's time is mpirun starting and ranks
# waiting on each other, not computing; each MPI test counts its ranks against -j (PROCESSORS).
export MPIPLY_TEST_JOBS=${MPIPLY_TEST_JOBS:-$((2 * $(nproc)))}
phase "tests" ctest --test-dir build --output-on-failure -j"$MPIPLY_TEST_JOBS" --timeout 300
phase "sanitizers (build + tests)" bash tools/test-sanitizers.sh
phase "fuzz (build + run)" bash tools/test-fuzz.sh   # libFuzzer on the message decoders
