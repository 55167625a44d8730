#!/usr/bin/env bash
# The slurm/ scripts on a real, throw-away Slurm cluster (tests/slurm/cluster.sh):
#   slurm_test.sh SUITE NODES PORT WORKDIR REPO BUILD
# SUITE jobs:    every slurm/<job>.sbatch and <job>-srun.sbatch, and the two templates with a
#                program given by absolute and by relative path; each must end COMPLETED 0:0
#                with the expected output in <name>-<jobid>.out.
# SUITE signals: SIGUSR1 sent to the batch script (scancel --batch, and --signal=B:USR1@N)
#                reaches every task through both templates, and drains an mpiply job (exit 84); a cancelled job keeps the output it
#                printed; a requeued job appends to its first attempt's output.
# SUITE requeue: a job whose work takes about three times its time limit finishes by itself,
#                through both templates: drained before the limit (exit 84), requeued by the
#                template, resumed from its task database, with the right answer; and
#                MPIPLY_MAX_ATTEMPTS stops the requeueing.
# SUITE apart:   two clusters on this machine at once, each running a 4-rank srun job: they hand
#                out different job ids, and both jobs end well (with equal ids, Open MPI's
#                shared-memory segments of one job were the other's: a crash or a hang).
# The cluster is stopped on every exit, failed or not.
set -euo pipefail
suite=$1 nodes=$2 port=$3 work=$4 repo=$5 build=$6
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cluster() { bash "$here/cluster.sh" "$1" "$work/cluster" "${@:2}"; }

fail() {
  echo "FAIL ($suite, $nodes node(s)): $*" >&2
  for f in "$work"/jobs/*.out "$work"/jobs/*/*.out; do [ -e "$f" ] && { echo "--- $f"; cat "$f"; }; done >&2
  # What the daemons said last: a job that never started, or a step that hung, shows there.
  for f in "$work"/cluster*/log/slurm*.log; do
    [ -e "$f" ] && { echo "--- last lines of $f"; tail -n 25 "$f"; }
  done >&2
  exit 1
}

if [ "$(id -u)" != 0 ] || ! command -v slurmctld >/dev/null; then
  echo "skipped: needs root and the Slurm packages (tools/setup.sh)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work/jobs"
other=""  # the apart suite's second cluster
trap 'cluster stop; [ -z "$other" ] || bash "$here/cluster.sh" stop "$other"' EXIT
# The daemons are not our children: if ctest killed this script at its TIMEOUT they would outlive
# it. CMakeLists.txt runs it under `timeout`, whose SIGTERM comes first and ends here, via EXIT.
trap 'echo "slurm_test.sh: stopped by a signal (over time?)" >&2; exit 1' TERM INT
# PORT is where to start looking: another checkout's tests may be using it right now.
port_free() {  # FIRST COUNT: no one listens on FIRST..FIRST+COUNT-1 (a connect is refused)
  local p
  for ((p = $1; p < $1 + $2; p++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then return 1; fi
  done
}
free_port() {  # FIRST COUNT: FIRST, or the first of FIRST+100, FIRST+200... with COUNT free ports
  local p=$1 tries
  for ((tries = 0; tries < 50; tries++)); do
    port_free "$p" "$2" && break
    p=$((p + 100))
  done
  echo "$p"
}
port=$(free_port "$port" $((nodes + 1)))
t0=$SECONDS
# The requeue suite shortens Slurm's requeue delay (120 s) to 10 s so that it runs in minutes.
delay=()
[ "$suite" != requeue ] || delay=(10)
cluster start "$nodes" "$port" "${delay[@]}"
echo "cluster with $nodes node(s) up in $((SECONDS - t0)) s"
eval "$(cluster env)"
# The scripts find the programs through these (they are not submitted from the repository).
export MPIPLY_ROOT=$repo MPIPLY_BUILD_DIR=$build
cd "$work/jobs"

# With several nodes, spread the tasks so that the job really crosses "nodes".
spread=()
[ "$nodes" = 1 ] || spread=(-N "$nodes" --ntasks-per-node=$((4 / nodes)))

submit() { sbatch --parsable "${spread[@]}" "$@"; }
# expect_end ID STATE [SECS]: waits (at most SECS, default 180) for the job and checks its final
# state and exit code.
expect_end() {
  local got
  got=$(cluster wait-job "$1" "${3:-180}") || true
  [ "$got" = "$2" ] || fail "job $1 ended '$got', expected '$2'"
}
# wait_for ID FILE [PATTERN]: waits (bounded) until FILE exists and, if given, contains
# PATTERN, i.e. until job ID got that far; fails at once if the job ended first.
wait_for() {
  local deadline=$((SECONDS + 90))
  until [ -e "$2" ] && { [ -z "${3:-}" ] || grep -q -- "$3" "$2"; }; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $2 ${3:+to contain '$3'}"
    ! cluster ended "$1" || fail "job $1 ended before $2 ${3:+contained '$3'}"
    sleep 0.2
  done
}
job_field() {  # ID FIELD: a field of scontrol show job (sacct needs slurmdbd, which we lack)
  scontrol -o show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
output_has() {  # FILE PATTERN...
  local f=$1 p
  shift
  [ -e "$f" ] || fail "no output file $f (files: $(ls))"
  for p in "$@"; do grep -q -- "$p" "$f" || fail "$f lacks '$p'"; done
}

case $suite in
jobs)
  printf '%s\n' '# two commands' 'echo farm-says-hello' 'echo on $(hostname) >&2' >farm-cmds.txt
  declare -A ids
  for job in pids itermap rms farm heat bench; do
    args=()
    [ $job = itermap ] && args=(--quick)
    [ $job = heat ] && args=(--points 100000 --steps 50)
    # The apply part only: the whole --quick bench takes minutes beside the rest of the suite.
    [ $job = bench ] && args=(--quick --part apply)
    for l in "" -srun; do
      [ $job = farm ] && args=(--joblog "farm$l.log" farm-cmds.txt)
      ids[$job$l]=$(submit "$repo/slurm/$job$l.sbatch" "${args[@]}")
    done
  done
  # Your own program, by absolute and by relative path (here: the rms job's binary).
  ids[abs]=$(submit -J myprog "$repo/slurm/mpirun.sbatch" "$build/jobs/rms")
  ids[rel]=$(submit -J myprog-srun "$repo/slurm/srun.sbatch" "$(realpath --relative-to=. "$build/jobs/rms")")
  # A bare name that is no job: a clear error, exit 2.
  ids[bad]=$(submit -J bad "$repo/slurm/mpirun.sbatch" no-such-job)

  # The jobs queue behind one another (four CPUs a node): one bound for them all, counted from
  # their submission.
  all_by=$((SECONDS + 360))
  for key in "${!ids[@]}"; do
    left=$((all_by > SECONDS ? all_by - SECONDS : 1))
    case $key in bad) expect_end "${ids[$key]}" "FAILED 2:0" $left ;; *) expect_end "${ids[$key]}" "COMPLETED 0:0" $left ;; esac
  done
  for l in "" -srun; do
    # The output file is named after the job that ran, and says where it ran.
    output_has "pids-${ids[pids$l]}.out" "3 engines" "every engine found its own pid" "== job ${ids[pids$l]} (pids) attempt 1"
    output_has "itermap-${ids[itermap$l]}.out" "running with two calls per task, with unordered results"
    [ "$(grep -c '^58\.028845747399714$' "rms-${ids[rms$l]}.out")" = 2 ] || fail "rms output"
    output_has "farm-${ids[farm$l]}.out" "farm-says-hello" "on $(hostname)" "2/2 done, 0 failed"
    output_has "heat-${ids[heat$l]}.out" "heat: PASS"
    output_has "bench-${ids[bench$l]}.out" "apply"
    [ "$(grep -c $'\t0\t0\techo farm-says-hello$' "farm$l.log")" = 1 ] || fail "farm$l.log"
  done
  [ "$(grep -c '^58\.028845747399714$' "myprog-${ids[abs]}.out")" = 2 ] || fail "absolute path"
  [ "$(grep -c '^58\.028845747399714$' "myprog-srun-${ids[rel]}.out")" = 2 ] || fail "relative path"
  output_has "bad-${ids[bad]}.out" "no-such-job is not an executable program"
  if [ "$nodes" != 1 ]; then
    output_has "pids-${ids[pids]}.out" "on 4 tasks (n\[1-$nodes\])"
    echo "host names the engines report with $nodes fake nodes:"
    awk '$1 ~ /^[0-9]+$/ && NF == 5 { print "  engine " $1 " rank " $2 " host " $3 }' "pids-${ids[pids]}.out"
    # Engines report the node Slurm gave them (SLURMD_NODENAME), not the shared kernel host
    # name: with tasks spread over every node, each node name appears.
    for l in "" -srun; do
      hosts=$(awk '$1 ~ /^[0-9]+$/ && NF == 5 { print $3 }' "pids-${ids[pids$l]}.out" | sort -u | tr '\n' ' ')
      for n in $(seq 1 "$nodes"); do
        case " $hosts" in *" n$n "*) ;; *) fail "pids$l: no engine reports node n$n (hosts: $hosts)" ;; esac
      done
    done
  fi
  ;;

signals)
  probe=$here/usr1_probe.sh
  # SIGUSR1 the scheduler sends before the time limit (B: to the batch shell). Slurm checks
  # every 30 s, so this one runs while the others below are tested.
  mkdir -p timed
  timed=$(sbatch --parsable -J timed -n 1 --time=00:02:00 --signal=B:USR1@110 --chdir="$PWD/timed" \
    "$repo/slurm/mpirun.sbatch" "$probe" 2>&1) || fail "sbatch: $timed"
  for l in mpirun srun; do
    mkdir -p "$l" && cd "$l"
    id=$(submit -J usr1-$l -n 2 "$repo/slurm/$l.sbatch" "$probe")
    wait_for "$id" ready.0 && wait_for "$id" ready.1
    scancel --signal=USR1 --batch "$id"
    expect_end "$id" "COMPLETED 0:0"
    [ -e usr1.0 ] && [ -e usr1.1 ] || fail "$l: SIGUSR1 did not reach every task ($(ls))"
    output_has "usr1-$l-$id.out" "forwarding SIGUSR1" "task 0 got SIGUSR1" "task 1 got SIGUSR1"
    cd ..
  done

  # A real mpiply drain (docs/drain.md): SIGUSR1 to the batch script reaches every rank through
  # both templates; rank 0 prints the summary, the drain action runs, and the job ends with 84,
  # "interrupted, resume me".
  for l in mpirun srun; do
    id=$(submit -J drain-$l -n 3 "$repo/slurm/$l.sbatch" "$build/tests/exit/drain" \
      --tasks 4000 --task-ms 50 --no-rank-lines)
    wait_for "$id" "drain-$l-$id.out" "drain-test: task running"
    scancel --signal=USR1 --batch "$id"
    expect_end "$id" "FAILED 84:0"
    output_has "drain-$l-$id.out" "forwarding SIGUSR1" "mpiply: interrupted by SIGUSR1" \
      "not run" "drain-test: drain action ran on rank 0"
  done

  # A cancelled job keeps what it printed: the farm prints a command's output when the command
  # ends, and the job is cancelled while the second command still runs.
  printf '%s\n' 'echo first-command-done' 'sleep 300' >slow.txt
  for s in farm farm-srun; do
    id=$(submit "$repo/slurm/$s.sbatch" slow.txt)
    wait_for "$id" "farm-$id.out" first-command-done
    scancel "$id"
    expect_end "$id" "CANCELLED 0:15"
    output_has "farm-$id.out" first-command-done
  done

  # A requeued job appends its second attempt to the first one's output. Slurm holds a requeued
  # job back for a while (BeginTime); StartTime=now lets it go at once.
  # A requeue by hand, not a drain: the template's requeue on drain, and the task database that
  # comes with it, stay off (MPIPLY_REQUEUE=0), so the second attempt runs every command again.
  printf '%s\n' 'echo attempt-${SLURM_RESTART_COUNT:-0}' \
    '[ "${SLURM_RESTART_COUNT:-0}" != 0 ] || sleep 300' >requeue.txt
  id=$(submit --requeue --export=ALL,MPIPLY_REQUEUE=0 "$repo/slurm/farm-srun.sbatch" requeue.txt)
  wait_for "$id" "farm-$id.out" attempt-0
  scontrol requeue "$id"
  deadline=$((SECONDS + 60))
  until scontrol -o show job "$id" | grep -q 'JobState=PENDING'; do
    [ $SECONDS -lt $deadline ] || fail "job $id was not requeued"
    sleep 0.2
  done
  scontrol update JobId="$id" StartTime=now
  expect_end "$id" "COMPLETED 0:0"
  output_has "farm-$id.out" "attempt 1," "attempt-0" "attempt 2," "attempt-1"

  expect_end "$timed" "COMPLETED 0:0"
  [ -e timed/usr1.0 ] || fail "--signal=B:USR1@110 did not reach the task"
  output_has "timed/timed-$timed.out" "forwarding SIGUSR1" "task 0 got SIGUSR1"
  ;;
requeue)
  # jobs/resume maps x*x + 1 over 0..ITEMS-1, one task per item of TASK_US microseconds (a sleep,
  # so a loaded machine does not stretch it), on one engine (-n 2): 170 s of work under a time
  # limit of one minute, Slurm's smallest. Slurm sends SIGUSR1 5 to 35 s before the limit (it
  # looks every 30 s), mpiply drains and exits 84, the template requeues the job (--requeue),
  # and each attempt resumes from the task database the first one created.
  items=1700 task_us=100000
  # The answer, computed here one item after another.
  want=0
  for ((x = 0; x < items; x++)); do want=$((want + x * x + 1)); done

  # The bound first (the cluster has 4 CPUs, the long jobs below take them all): with
  # MPIPLY_MAX_ATTEMPTS=1 a drain ends the job with 84 and it is not requeued. Its work (34 s
  # of 20 ms tasks) must outlast the wait for its first progress line and the signal's way
  # through Slurm on a loaded machine: with 1 ms tasks it could finish first and exit 0. The
  # drain ends it as soon as the signal arrives, so the length costs nothing.
  id=$(submit -J bound -n 2 --requeue --export=ALL,MPIPLY_MAX_ATTEMPTS=1 \
    "$repo/slurm/mpirun.sbatch" resume --n "$items" --task-us 20000)
  wait_for "$id" "bound-$id.out" "^resume: progress 100/"
  scancel --signal=USR1 --batch "$id"
  expect_end "$id" "FAILED 84:0"
  [ "$(job_field "$id" Restarts)" = 0 ] || fail "job $id was requeued after its last attempt"
  output_has "bound-$id.out" "mpiply: interrupted by SIGUSR1" \
    "== drained on attempt 1 of at most 1 (MPIPLY_MAX_ATTEMPTS): not requeued"

  declare -A ids
  for l in mpirun srun; do
    ids[$l]=$(submit -J "requeue-$l" -n 2 --time=1 --signal=B:USR1@5 --requeue \
      --export=ALL,MPIPLY_MAX_ATTEMPTS=8 "$repo/slurm/$l.sbatch" resume --n "$items" --task-us "$task_us")
  done
  # No action of ours from here on: the jobs go through their attempts by themselves.
  for l in mpirun srun; do
    id=${ids[$l]} out=requeue-$l-${ids[$l]}.out
    expect_end "$id" "COMPLETED 0:0" 450
    restarts=$(job_field "$id" Restarts)
    echo "requeue-$l: $((restarts + 1)) attempts; $(grep '^resume: sum' "$out")"
    [ "$restarts" -ge 2 ] || fail "job $id: $restarts restarts, expected at least 2 for 3 limits' work"
    # Every attempt but the last drained and requeued itself, and the last one reused results.
    [ "$(grep -c "^== job $id (requeue-$l) attempt " "$out")" = $((restarts + 1)) ] ||
      fail "$out: not one header per attempt"
    [ "$(grep -c '^mpiply: interrupted by SIGUSR1' "$out")" = "$restarts" ] ||
      fail "$out: not one drain per requeue"
    [ "$(grep -c "^== drained (exit 84): requeueing job $id; attempt [0-9]* resumes from $PWD/requeue-$l-$id.db" "$out")" = "$restarts" ] ||
      fail "$out: not one requeue per drain"
    output_has "$out" "^resume: sum $want (expected $want): right; [1-9][0-9]* of $items tasks reused"
  done
  ;;
apart)
  other=$work/cluster2
  other_port=$(free_port $((port + nodes + 1)) 2)
  bash "$here/cluster.sh" start "$other" 1 "$other_port"
  # Both first jobs at once, one in each cluster, each with its own output directory.
  mkdir -p one two
  # bench's map part: a few seconds of shared-memory traffic between four ranks.
  one=$(cd one && submit -n 4 "$repo/slurm/srun.sbatch" "$build/jobs/bench" --quick --part map)
  two=$(eval "$(bash "$here/cluster.sh" env "$other")" && cd two &&
    sbatch --parsable -n 4 "$repo/slurm/srun.sbatch" "$build/jobs/bench" --quick --part map)
  echo "job ids: $one in the first cluster, $two in the second"
  [ "$one" != "$two" ] || fail "both clusters gave their first job the id $one"
  expect_end "$one" "COMPLETED 0:0"
  got=$(bash "$here/cluster.sh" wait-job "$other" "$two" 180) || true
  [ "$got" = "COMPLETED 0:0" ] || fail "job $two of the second cluster ended '$got', expected 'COMPLETED 0:0' ($(cat two/*.out))"
  output_has "one/mpiply-$one.out" "map chunksize 1"
  output_has "two/mpiply-$two.out" "map chunksize 1"
  ;;
*) fail "unknown suite" ;;
esac
echo "ok: slurm $suite with $nodes node(s) in $((SECONDS - t0)) s"
