#!/usr/bin/env bash
# Stands in for a program that handles SIGUSR1 (as mpiply will, to drain): every task writes
# ready.<rank> once its handler is in place, then waits; on SIGUSR1 it writes usr1.<rank> and
# exits 0. Run by the slurm tests through slurm/mpirun.sbatch and slurm/srun.sbatch.
set -euo pipefail
rank=${OMPI_COMM_WORLD_RANK:-${SLURM_PROCID:-0}}
trap 'echo "task $rank got SIGUSR1"; echo usr1 >"usr1.$rank"; kill "$sleeper" 2>/dev/null || true; exit 0' USR1
# The launcher may signal the whole process group: the sleeper ignores SIGUSR1, so that only
# this shell's handler decides what happens.
(trap '' USR1; exec sleep 300) &
sleeper=$!
echo ready >"ready.$rank"
wait "$sleeper"
echo "task $rank: no SIGUSR1 came" >&2
exit 1
