#!/usr/bin/env bash
# Where an apply's round trip spends its time, step by step: builds the bench with the trace
# points compiled in (src/support/trace_points.hpp) into build-trace/, runs its apply part on
# two ranks, and prints jobs/bench/trace_segments.py's table. Run tools/setup.sh once first (it
# installs what this needs).
#
#   bash tools/trace-points.sh                 build, run the full apply part, print the table
#   bash tools/trace-points.sh map             the same for the chunksize-1 maps of --part map
#                                              (each step's count is then per task or message)
#   bash tools/trace-points.sh build           only configure and build build-trace/
#   bash tools/trace-points.sh check           a short run (--quick), and check every step of a
#                                              round trip is there (tools/test.sh runs this)
#   bash tools/trace-points.sh pair REF [N] [PART]
#                                              N pairs (default 4) of runs of PART (default
#                                              apply), REF's traced bench and this tree's in
#                                              turn; prints each step's median in every run
#                                              (jobs/bench/trace_segments.py --pairs). REF:
#                                              the traced bench of another build, e.g. of an
#                                              earlier commit:
#       git worktree add /tmp/ref COMMIT && (cd /tmp/ref && bash tools/trace-points.sh build)
#       bash tools/trace-points.sh pair /tmp/ref/build-trace/jobs/bench
#
# The points cost a few nanoseconds each (the table takes that off every step), so a traced
# round trip is slower than an untraced one; compare steps between traced builds only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what=${1:-run}

build() {
  source tools/cmake-tree.sh
  configure_tree build-trace -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DMPIPLY_TRACE_POINTS=ON \
    -DMPIPLY_BUILD_TESTS=OFF -DMPIPLY_INSTALL=OFF >/dev/null
  cmake --build build-trace --target bench
}

run() {  # run PART [bench flags...]
  source tools/mpi-env.sh
  local dir part=$1
  shift
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  MPIPLY_TRACE_POINTS_DIR=$dir mpirun -n 2 --oversubscribe -x MPIPLY_TRACE_POINTS_DIR \
    build-trace/jobs/bench --part "$part" "$@" >"$dir/bench.out"
  grep -E "apply_rtt_(mean|median)_us|pingpong_rtt_mean_us|tight farm" "$dir/bench.out" || true
  python3 jobs/bench/trace_segments.py "$dir" ${check:+--check}
}

pair() {  # pair REF [N] [PART]
  source tools/mpi-env.sh
  local ref=$1 n=${2:-4} part=${3:-apply} dir k side bin
  [ -x "$ref" ] || { echo "trace-points: $ref is not a bench executable" >&2; exit 2; }
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  for ((k = 1; k <= n; k++)); do
    for side in a b; do
      bin=$ref
      [ "$side" = b ] && bin=build-trace/jobs/bench
      mkdir "$dir/$side$k"
      MPIPLY_TRACE_POINTS_DIR=$dir/$side$k mpirun -n 2 --oversubscribe -x MPIPLY_TRACE_POINTS_DIR \
        "$bin" --part "$part" >"$dir/$side$k/bench.out"
    done
  done
  python3 jobs/bench/trace_segments.py --pairs "$dir"
}

case $what in
  build) build ;;
  check) [ -x build-trace/jobs/bench ] || build; check=1 run apply --quick ;;
  run) build; check="" run apply ;;
  map) build; check="" run map ;;
  pair) [ $# -ge 2 ] || { echo "usage: tools/trace-points.sh pair REF [N] [PART]" >&2; exit 2; }
    build; shift; pair "$@" ;;
  *) echo "usage: tools/trace-points.sh [run|map|build|check|pair REF [N] [PART]]" >&2; exit 2 ;;
esac
