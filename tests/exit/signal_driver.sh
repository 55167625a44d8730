#!/usr/bin/env bash
# Runs an MPI command, signals it once it is busy, and reports how it ended (for the drain tests,
# under expect_exit.cmake, which checks the exit code and the output):
#   signal_driver.sh [options] -- COMMAND...
#     --ready REGEX    wait (bounded) for a line matching REGEX before signalling
#     --signal SIG     the signal (USR1, TERM, INT); default USR1
#     --to mpiexec|ranks|both  signal the launcher (default), or every rank directly, as Slurm
#                      does at the time limit (the ranks print "drain-test: rank R pid P"), or
#                      both at once, as a signal to the process group or to a whole Slurm step
#                      arrives (each rank gets it twice: directly and through the launcher)
#     --ranks N        with --to ranks: how many pid lines to wait for
#     --second-after REGEX  then wait for REGEX and send the signal again, at least 0.6 s after
#                      the first: mpiply takes a repeat within 0.5 s for the same signal
#                      delivered twice (src/runtime/drain.cpp), so only a later one is a second
#     --within S       the command must end within S seconds of the (last) signal; else this
#                      script kills it and exits 99
# Prints the command's merged output, then "signal-driver: ended N.N s after the signal", and
# exits with the command's exit code. Waits poll the output file with a bound: no fixed sleeps.
set -u
ready='' sig=USR1 to=mpiexec ranks=1 second='' within=60
while [ $# -gt 0 ]; do
  case $1 in
    --ready) ready=$2; shift 2 ;;
    --signal) sig=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --second-after) second=$2; shift 2 ;;
    --within) within=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "signal_driver.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Job control: the command gets its own process group and, unlike a plain background job of a
# script, does not start with SIGINT ignored.
set -m
"$@" >"$out" 2>&1 &
pid=$!
set +m

finish() {  # RC MESSAGE
  cat "$out"
  echo "signal-driver: $2"
  exit "$1"
}
# wait_for REGEX [COUNT]: until COUNT lines match, bounded; fails if the command ends first.
wait_for() {
  local deadline=$((SECONDS + 90))
  until [ "$(grep -cE -- "$1" "$out")" -ge "${2:-1}" ]; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid"; finish 98 "the command ended (rc $?) before '$1' was printed"; }
    [ $SECONDS -lt $deadline ] || { kill -KILL "$pid"; finish 98 "timed out waiting for '$1'"; }
    sleep 0.05
  done
}
send() {
  if [ "$to" != ranks ]; then kill -"$sig" "$pid"; fi
  if [ "$to" != mpiexec ]; then
    local p
    for p in $(sed -nE 's/^drain-test: rank [0-9]+ pid ([0-9]+)$/\1/p' "$out"); do
      kill -"$sig" "$p" 2>/dev/null
    done
  fi
  t0=${EPOCHREALTIME/./}  # microseconds
}

[ "$to" != mpiexec ] && wait_for '^drain-test: rank [0-9]+ pid [0-9]+$' "$ranks"
[ -n "$ready" ] && wait_for "$ready"
send
if [ -n "$second" ]; then
  wait_for "$second"
  # The condition is the time itself: the repeat window must have passed.
  while [ "${EPOCHREALTIME/./}" -lt $((t0 + 600000)) ]; do sleep 0.05; done
  send
fi
# Bounded wait for the end: a poll of the process, not a sleep standing for it.
end=$((t0 + within * 1000000))
while kill -0 "$pid" 2>/dev/null; do
  if [ "${EPOCHREALTIME/./}" -gt "$end" ]; then
    kill -KILL "$pid"
    wait "$pid"
    finish 99 "still running $within s after the signal: killed"
  fi
  sleep 0.05
done
wait "$pid"
rc=$?
us=$((${EPOCHREALTIME/./} - t0))
finish "$rc" "ended $((us / 1000000)).$(printf %03d $((us / 1000 % 1000))) s after the signal, exit code $rc"
