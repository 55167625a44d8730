#!/usr/bin/env bash
# cluster.sh wait-job ends on a job's final state only. Slurm shows passing states as well
# (SIGNALING while it delivers a --signal before the time limit, REQUEUE_HOLD, RESIZING,
# STAGE_OUT...); taken for an end, a requeueing job looked finished (slurm-requeue once failed
# with "ended 'SIGNALING 0:0'"). Runs without a cluster: scontrol is tests/slurm/fake/scontrol.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH="$here/fake:$PATH"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
check() {  # STATE EXPECTED
  local got
  got=$(FAKE_JOB_STATE=$1 bash "$here/cluster.sh" wait-job "$dir" 7 1) || true
  if [ "$got" = "$2" ]; then echo "ok: $1 -> $got"; else echo "FAIL: $1 -> '$got', expected '$2'"; fails=1; fi
}
for s in PENDING RUNNING CONFIGURING COMPLETING REQUEUED REQUEUE_HOLD REQUEUE_FED SIGNALING \
         RESIZING STAGE_OUT SUSPENDED STOPPED SPECIAL_EXIT; do
  check "$s" "not ended after 1 s: $s 0:0"
done
for s in COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL PREEMPTED BOOT_FAIL DEADLINE OUT_OF_MEMORY; do
  check "$s" "$s 0:0"
done
exit "$fails"
