#!/usr/bin/env bash
# A throw-away Slurm cluster on loopback for the slurm tests: its own munged, slurmctld and one
# slurmd per (fake) node, all on this machine, all state under one directory.
#
#   cluster.sh start DIR NODES PORT [REQUEUE_DELAY]
#                                     start munged, slurmctld on PORT and NODES slurmds on
#                                     PORT+1.., and wait (bounded) until every node is idle.
#                                     REQUEUE_DELAY (seconds): how long a requeued job waits
#                                     before it may start again (Slurm's default: 120 s)
#   cluster.sh stop DIR               cancel jobs, stop the daemons whose pid files are in DIR
#   cluster.sh env DIR                export lines for a client shell: eval "$(cluster.sh env DIR)"
#   cluster.sh wait-job DIR ID SECS   wait until job ID ends (at most SECS); print "STATE EXIT",
#                                     or "not ended after SECS s: STATE EXIT" and exit 1
#   cluster.sh ended DIR ID           exit 0 when job ID has ended (a final state), else 1
#
# Needs root and the Debian packages slurmctld slurmd slurm-client munge (tools/setup.sh).
# Several clusters can run at once if their DIRs and PORTs differ; each numbers its jobs from
# PORT x 100, so their job ids differ too. The packages' own system
# services are never used.
set -euo pipefail
umask 022  # munged refuses group- or world-writable key, socket and log directories

die() { echo "cluster.sh: $*" >&2; exit 1; }

cmd=${1:-}
[ $# -ge 2 ] || die "usage: cluster.sh start|stop|env|wait-job DIR ..."
dir=$(readlink -m "$2")
shift 2
conf=$dir/etc/slurm.conf
sock=$dir/run/munge.socket
export SLURM_CONF=$conf

# The pid in FILE if that process is alive, is COMM and was started with DIR on its command
# line (so a stale file or a reused pid never makes us signal a stranger).
our_pid() {  # FILE COMM
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/" || return 0
  echo "$pid"
}

# Polls CONDITION (a command) every 0.2 s for at most SECS seconds.
poll() {  # SECS CONDITION...
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

write_config() {  # NODES PORT [REQUEUE_DELAY]
  local nodes=$1 port=$2 delay=${3:-} host i mem
  host=$(hostname -s)
  # What this machine has, so slurmd accepts the node; CPUs are advertised as 4 whatever the
  # real count (SlurmdParameters=config_overrides), so a 4-task job fits on a 2-core machine.
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  mkdir -p "$dir/etc" "$dir/run" "$dir/log" "$dir/spool/ctld"
  chmod 755 "$dir" "$dir/run"
  cat >"$conf" <<EOF
ClusterName=mpiply-test
SlurmctldHost=$host(127.0.0.1)
# Job ids of their own: Open MPI names a job's shared-memory segments and session directory
# after its PMIx namespace, slurm.pmix.<job>.<step>, so two clusters on one machine that both
# run their job 8 with srun would map each other's segments (a crash or a hang).
FirstJobId=$((port * 100))
SlurmctldPort=$port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock${delay:+,cred_expire=$delay}
CredType=cred/munge
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
# Each node its own TmpFS: the pmix plugin's directories collide when slurmds share /tmp.
TmpFS=$dir/tmp/%n
# No cgroups or systemd here: track job processes through /proc.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# Finished jobs stay visible to scontrol (there is no sacct without slurmdbd).
MinJobAge=3600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=pmix
ReturnToService=2
# Short, so a cancelled test job is gone quickly (SIGTERM, then SIGKILL after this).
KillWait=5
SlurmdParameters=config_overrides
EOF
  if [ -n "$delay" ]; then
    # A requeued job may start again cred_expire (above) + 1 s after it was requeued, but only
    # the scheduler's next pass starts it, and a begin time that passes wakes no pass: look for
    # startable jobs every second instead of every 60 s (sched_interval) and 30 s (backfill).
    echo "SchedulerParameters=sched_interval=1,bf_interval=1" >>"$conf"
  fi
  for ((i = 1; i <= nodes; i++)); do
    # One node: named as the host. Several: fake nodes n1..nN, one slurmd each on its own port.
    local name=$host
    [ "$nodes" = 1 ] || name=n$i
    mkdir -p "$dir/spool/$name" "$dir/tmp/$name"
    echo "NodeName=$name NodeHostname=$host NodeAddr=127.0.0.1 Port=$((port + i)) CPUs=4 RealMemory=${mem:-1024} State=UNKNOWN" >>"$conf"
  done
  echo "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP" >>"$conf"
}

all_idle() { [ "$(sinfo -h -N -o '%T' 2>/dev/null | sort -u)" = idle ]; }

start() {  # NODES PORT [REQUEUE_DELAY]
  [ "$(id -u)" = 0 ] || die "needs root (slurmd runs jobs as their users)"
  # A cluster left from this DIR (a run that was killed before it could clean up) goes first.
  if [ -e "$dir/run" ]; then stop; fi
  [ ${#sock} -lt 100 ] || die "$dir is too deep for munge's socket path (at most ~100 bytes)"
  rm -rf "$dir"
  write_config "$@"
  # From here on a failed start leaves nothing running.
  trap 'echo "cluster.sh: start failed; logs in $dir/log" >&2; stop' EXIT

  dd if=/dev/urandom of="$dir/etc/munge.key" bs=1024 count=1 status=none
  chmod 400 "$dir/etc/munge.key"
  munged --key-file="$dir/etc/munge.key" --socket="$sock" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/run/munged.seed"
  munged_up() { [ -n "$(our_pid "$dir/run/munged.pid" munged)" ]; }
  poll 10 munged_up || die "munged did not start"

  slurmctld -f "$conf"
  local node
  for node in $(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' "$conf"); do slurmd -f "$conf" -N "$node"; done
  poll 60 all_idle || { sinfo -N >&2 || true; die "nodes not idle after 60 s"; }
  trap - EXIT
}

stop() {
  local pids=() f comm pid
  if [ -n "$(our_pid "$dir/run/slurmctld.pid" slurmctld)" ]; then
    # Jobs first, while slurmctld and the slurmds can still end them (KillWait is 5 s).
    scancel --full -p test 2>/dev/null || true
    no_jobs() { [ -z "$(squeue -h -t PD,CF,R,S,CG 2>/dev/null)" ]; }
    poll 30 no_jobs || { echo "cluster.sh: jobs still listed:" >&2; squeue >&2; }
  fi
  for f in "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid" "$dir/run/munged.pid"; do
    [ -e "$f" ] || continue
    comm=$(basename "$f" .pid)
    comm=${comm%%-*}
    pid=$(our_pid "$f" "$comm")
    [ -z "$pid" ] || { kill -TERM "$pid"; pids+=("$pid"); }
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  gone() { local p; for p in "${pids[@]}"; do [ ! -d "/proc/$p" ] || return 1; done; }
  poll 15 gone || { echo "cluster.sh: SIGKILL to ${pids[*]}" >&2; kill -KILL "${pids[@]}" 2>/dev/null || true; }
}

print_env() {
  echo "export SLURM_CONF=$conf"
  echo "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  echo "export OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo"
  # Fake nodes share one host: Open MPI's shared-memory transport breaks between them.
  [ "$(grep -c '^NodeName=' "$conf")" = 1 ] || echo "export OMPI_MCA_btl=self,tcp"
}

job_field() {  # ID FIELD
  scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Whether STATE is one a job ends in. Slurm also shows passing states (SIGNALING while it
# delivers a --signal, REQUEUE_HOLD, RESIZING, STAGE_OUT...): they end nothing (test_wait_job.sh).
final_state() {  # STATE
  case $1 in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | PREEMPTED | BOOT_FAIL | DEADLINE | OUT_OF_MEMORY) ;;
    *) return 1 ;;
  esac
}

wait_job() {  # ID SECS
  local state
  ended() {
    state=$(job_field "$1" JobState)
    final_state "$state"
  }
  # Not "TIMEOUT", which is Slurm's own state for a job killed at its time limit.
  poll "$2" ended "$1" || { echo "not ended after $2 s: ${state:-no state} $(job_field "$1" ExitCode)"; return 1; }
  echo "$state $(job_field "$1" ExitCode)"
}

case $cmd in
  start)
    [ $# = 2 ] || [ $# = 3 ] || die "usage: cluster.sh start DIR NODES PORT [REQUEUE_DELAY]"
    start "$@"
    ;;
  stop) stop ;;
  env) print_env ;;
  wait-job) [ $# = 2 ] || die "usage: cluster.sh wait-job DIR ID SECS"; wait_job "$@" ;;
  ended) [ $# = 1 ] || die "usage: cluster.sh ended DIR ID"; final_state "$(job_field "$1" JobState)" ;;
  *) die "unknown command '$cmd'" ;;
esac
