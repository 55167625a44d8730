#!/usr/bin/env bash
# Build, then run the main job on this machine:
#   tools/run.sh [ranks] [job args...]      (ranks default 4: one client + 3 engines)
# MPIPLY_JOB picks another program from build/jobs/ (default: pids).
# --oversubscribe lets 4 ranks run on a machine with fewer cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ranks=${1:-4}
if [ $# -gt 0 ]; then shift; fi
job=${MPIPLY_JOB:-pids}
bash tools/setup.sh
source tools/mpi-env.sh
exec mpirun --oversubscribe -n "$ranks" "build/jobs/$job" "$@"
