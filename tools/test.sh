#!/usr/bin/env bash
# Set up and build (tools/setup.sh), run every test, then run the suite again under
# AddressSanitizer and UndefinedBehaviorSanitizer with the message decoders' fuzz targets
# (tools/test-sanitizers.sh: one clang build serves both), and last checks the bench built with
# the trace points (tools/trace-points.sh). Each test carries its own TIMEOUT; --timeout is only
# the backstop for one that forgot. Each phase's time is printed at the end.
#
# The sanitizer build (then the trace-points build) compiles while the normal suite runs, at the
# lowest CPU priority (nice 19): much of that suite is waiting (the Slurm tests on their
# cluster, mpiexec starting and tearing down jobs, ranks on each other), and the compiler takes
# only the CPU the tests leave idle, so the tests' own timing is unchanged. Its output goes to
# build/side-builds.log (shown if it fails).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phases=()
phase() {  # phase NAME COMMAND...: runs it and keeps its time for the summary
  local name=$1 start=$SECONDS
  shift
  "$@"
  phases+=("$(printf '%-34s %5d s' "$name" $((SECONDS - start)))")
}
side_pid=""
side_total=0
summary() {
  if [ -n "$side_pid" ] && kill -0 "$side_pid" 2>/dev/null; then
    kill -- -"$side_pid" 2>/dev/null || true   # its own process group (setsid below)
  fi
  echo "== test.sh phases (total ${SECONDS} s):"
  local p
  for p in "${phases[@]}"; do echo "   $p"; done
}
trap summary EXIT

phase "setup and build" bash tools/setup.sh
while IFS= read -r line; do phases+=("    $line"); done <build/setup-times
source tools/mpi-env.sh
# Four times as many ranks at once as cores: most of a test's time is mpirun starting and
# ranks waiting on each other, not computing (docs/testing.md has the suite's CPU time against
# its wall time); each MPI test counts its ranks against -j (PROCESSORS).
export MPIPLY_TEST_JOBS=${MPIPLY_TEST_JOBS:-$((4 * $(nproc)))}

side_log=build/side-builds.log
side_start=$SECONDS
# setsid: its own process group, so that an early exit stops the compilers too (-w: its exit
# status is the builds').
# Each build's own time goes to build/side-times for the summary.
side_times=build/side-times
rm -f "$side_times"
# setsid puts them in a session of their own, and with the kernel's autogroup scheduling (on by
# default in many distributions) nice only ranks processes within one session: the session's own
# weight is set too (/proc/self/autogroup), or the builds would take half the CPU from the tests.
setsid -w nice -n 19 bash -c '
  { echo 19 >/proc/self/autogroup; } 2>/dev/null || true
  timed() { local s=$SECONDS; bash "tools/$2" build || return; printf "%-32s %5d s\n" "$1" $((SECONDS - s)) >>build/side-times; }
  timed "sanitizer and fuzz build (nice)" test-sanitizers.sh &&
  timed "trace-points build (nice)" trace-points.sh' \
  >"$side_log" 2>&1 &
side_pid=$!
side_builds() {  # waits for the side builds; their whole time is kept for the summary
  local rc=0
  wait "$side_pid" || rc=$?
  side_pid=""
  side_total=$((SECONDS - side_start))
  if [ "$rc" != 0 ]; then
    tail -n 60 "$side_log"
    echo "test.sh: the sanitizer build failed (exit $rc); the whole log: $side_log" >&2
    return "$rc"
  fi
}

phase "tests (+ side builds, nice)" ctest --test-dir build --output-on-failure -j"$MPIPLY_TEST_JOBS" --timeout 300
phase "side builds, after the tests" side_builds
phases+=("$(printf '%-34s %5d s' "  (side builds in all, from start)" "$side_total")")
if [ -f "$side_times" ]; then
  while IFS= read -r line; do phases+=("    $line"); done <"$side_times"
fi
phase "sanitizer and fuzz tests" bash tools/test-sanitizers.sh test
# The bench built with the trace points (tools/trace-points.sh): a short apply run, every step
# of a round trip in its table.
phase "trace points check" bash tools/trace-points.sh check
