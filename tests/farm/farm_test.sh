#!/usr/bin/env bash
# Checks one behaviour of jobs/farm, run under the given launcher:
#   farm_test.sh CASE WORKDIR LAUNCHER... FARM
# e.g. farm_test.sh joblog /tmp/w mpiexec -n 2 --oversubscribe build/jobs/farm
# CASE is one of: joblog resume retries timeout exit-status output usage. Every command below is
# the command under test, never a wait for something: waits are the farm's own.
set -euo pipefail
case_name=$1 work=$2
shift 2
farm=("$@")   # launcher and farm binary; more flags are appended per run

rm -rf "$work"
mkdir -p "$work"
cd "$work"

fail() { echo "FAIL ($case_name): $*" >&2; exit 1; }
# run_farm EXPECTED_RC ARGS...: runs the farm with stdout/stderr in out.txt/err.txt.
run_farm() {
  local want=$1 rc=0
  shift
  "${farm[@]}" "$@" >out.txt 2>err.txt || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; cat out.txt; echo "--- stderr"; cat err.txt
    fail "farm $* exited $rc, expected $want"
  fi
}
# Data rows of a joblog, one field: field FILE SEQ COLUMN (1-based column).
field() { awk -F'\t' -v s="$2" -v c="$3" 'NR > 1 && $1 == s { print $c }' "$1"; }
count_lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }

case $case_name in
joblog)
  cat >cmds <<'EOF'
# a comment, then a blank line: neither is a command

echo one
exit 7
kill -TERM $$
sleep 0.3
  echo   spaced	tab
EOF
  t0=$(date +%s.%N)
  run_farm 2 --joblog log cmds
  t1=$(date +%s.%N)
  [ "$(head -1 log)" = "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" ] ||
    fail "header: $(head -1 log)"
  [ "$(wc -l <log)" = 6 ] || fail "expected 5 rows: $(cat log)"
  # Every row: 9 columns, this host, start within the run, GNU parallel's number formats.
  awk -F'\t' -v host="$(hostname)" -v t0="$t0" -v t1="$t1" 'NR > 1 {
      if (NF < 9) { print "columns: " $0; bad = 1 }
      if ($2 != host) { print "host " $2 " != " host; bad = 1 }
      if ($3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $3 < t0 - 1 || $3 > t1 + 1) { print "start " $3; bad = 1 }
      if ($4 !~ /^ *[0-9]+\.[0-9][0-9][0-9]$/ || length($4) != 10) { print "runtime [" $4 "]"; bad = 1 }
      if ($5 != "0" || $6 != "0") { print "send/receive " $5 " " $6; bad = 1 }
    } END { exit bad }' log || fail "bad rows in $(cat log)"
  [ "$(cut -f1 log | tail -n +2 | sort -n | tr '\n' ' ')" = "1 2 3 4 5 " ] || fail "seqs: $(cut -f1 log)"
  # Exitval, Signal and Command of each row.
  [ "$(field log 1 7)/$(field log 1 8)/$(field log 1 9)" = "0/0/echo one" ] || fail "row 1"
  [ "$(field log 2 7)/$(field log 2 8)/$(field log 2 9)" = "7/0/exit 7" ] || fail "row 2"
  [ "$(field log 3 7)/$(field log 3 8)/$(field log 3 9)" = "0/15/kill -TERM \$\$" ] || fail "row 3"
  awk -v r="$(field log 4 4)" 'BEGIN { exit !(r >= 0.3 && r < 10) }' || fail "runtime of sleep 0.3"
  [ "$(awk -F'\t' 'NR > 1 && $1 == 5' log | cut -f9-)" = \
    "$(printf '  echo   spaced\ttab')" ] || fail "command kept verbatim, with a tab: $(field log 5 9)"
  ;;

resume)
  # First run: commands 2 and 4 fail until the file 'fixed' exists.
  for k in 1 2 3 4 5; do
    if [ $((k % 2)) = 0 ]; then echo "echo run >>runs.$k; test -e fixed"; else echo "echo run >>runs.$k"; fi
  done >cmds
  run_farm 2 --joblog log cmds
  touch fixed
  run_farm 0 --joblog log --resume cmds
  grep -q "3 of 5 commands already succeeded, 2 to run" err.txt || fail "resume message: $(cat err.txt)"
  for k in 1 3 5; do [ "$(count_lines runs.$k)" = 1 ] || fail "command $k ran again after succeeding"; done
  for k in 2 4; do [ "$(count_lines runs.$k)" = 2 ] || fail "failed command $k did not run again"; done
  [ "$(grep -c '^Seq' log)" = 1 ] || fail "header written twice: $(cat log)"
  [ "$(wc -l <log)" = 8 ] || fail "joblog should have 5 + 2 rows: $(cat log)"

  # An interrupted run: the job dies at command 4 (it kills its own rank, which takes the MPI
  # job down), and a row cut short is in the joblog. --resume must run what is not logged as
  # done, and never what is.
  rm -f runs.* log armed
  touch armed
  {
    echo "echo run >>runs.1"
    echo "echo run >>runs.2"
    echo "echo run >>runs.3"
    echo "echo run >>runs.4; if [ -e armed ]; then rm armed; kill -KILL \$PPID; fi"
  } >cmds
  rc=0
  "${farm[@]}" --joblog log cmds >out.txt 2>err.txt || rc=$?
  [ "$rc" != 0 ] || fail "the first run should have been killed"
  printf '9\thost\t1.0' >>log   # a partial row (no newline): must be ignored
  logged=$(awk -F'\t' 'NR > 1 && NF >= 9 && $7 == 0 && $8 == 0 { print $1 }' log)
  run_farm 0 --joblog log --resume cmds
  for k in 1 2 3 4; do
    n=$(count_lines runs.$k)
    if grep -qx "$k" <<<"$logged"; then
      [ "$n" = 1 ] || fail "command $k was logged as done but ran $n times"
    else
      [ "$n" -ge 1 ] || fail "command $k never ran"
    fi
  done
  [ -z "$(awk -F'\t' 'NR > 1 && NF >= 9 && $1 == 4 && $7 == 0 { print }' log)" ] &&
    fail "command 4 has no successful row: $(cat log)"
  grep -q "not a joblog row" err.txt || fail "the partial row was not reported"
  ;;

retries)
  # Fails on its first run, succeeds on its second (the count is kept in a file).
  cmd='n=$(cat count 2>/dev/null || echo 0); n=$((n + 1)); echo $n >count; [ $n -ge 2 ]'
  echo "$cmd" >cmds
  run_farm 0 --joblog log --retries 1 cmds
  [ "$(cat count)" = 2 ] || fail "ran $(cat count) times, expected 2"
  [ "$(wc -l <log)" = 2 ] && [ "$(field log 1 7)" = 0 ] || fail "joblog: $(cat log)"
  rm count
  run_farm 1 --joblog log cmds
  [ "$(cat count)" = 1 ] || fail "without --retries it must run once"
  echo 'echo x >>tries; exit 4' >cmds
  run_farm 1 --joblog log --retries 2 cmds
  [ "$(count_lines tries)" = 3 ] || fail "--retries 2 should run a failing command 3 times"
  [ "$(field log 1 7)" = 4 ] || fail "joblog: $(cat log)"
  ;;

timeout)
  # One command dies of SIGTERM; one ignores it and needs SIGKILL after the grace period.
  printf '%s\n' 'sleep 30' "trap '' TERM; sleep 30" 'echo quick' >cmds
  t0=$(date +%s)
  run_farm 2 --joblog log --timeout 1 --grace 1 cmds
  elapsed=$(($(date +%s) - t0))
  [ "$elapsed" -lt 20 ] || fail "took ${elapsed}s: the sleeps were not killed"
  [ "$(field log 1 8)" = 15 ] || fail "sleep 30 should end with signal 15: $(cat log)"
  [ "$(field log 2 8)" = 9 ] || fail "a command ignoring SIGTERM should get 9: $(cat log)"
  [ "$(field log 3 7)/$(field log 3 8)" = 0/0 ] || fail "echo quick: $(cat log)"
  grep -q "command 1 timed out" err.txt || fail "no timeout message"
  grep -qx quick out.txt || fail "output of the quick command missing"
  ;;

exit-status)
  printf '%s\n' true 'exit 3' false 'kill -KILL $$' 'echo ok' >cmds
  run_farm 3 cmds
  grep -q "5/5 done, 3 failed" err.txt || fail "progress line: $(cat err.txt)"
  # GNU parallel caps the count at 101.
  for _ in $(seq 1 103); do echo false; done >cmds
  run_farm 101 cmds
  ;;

output)
  # Six commands each write 300 lines to stdout and to stderr; one writes 1.3 MB (more than a
  # pipe holds). Each command's lines must come out as one block, in order.
  for k in 1 2 3 4 5 6; do
    echo "for i in \$(seq 1 300); do echo \"c$k out \$i\"; echo \"c$k err \$i\" >&2; done"
  done >cmds
  echo 'seq 1 200000' >>cmds
  run_farm 0 cmds
  for stream in out err; do
    grep "^c[0-9] $stream " "$stream.txt" >lines || true
    awk -v s="$stream" '{
        split($0, f, " ")
        if (f[1] != prev) {
          if (prev != "" && n != 300) bad = 1
          if (seen[f[1]]++) bad = 1
          blocks++; prev = f[1]; n = 0
        }
        if (f[3] != ++n) bad = 1
      } END { if (n != 300 || blocks != 6) bad = 1; exit bad }' lines ||
      fail "std$stream of the commands is interleaved or incomplete"
  done
  grep -qx 200000 out.txt || fail "large output cut short"
  [ "$(grep -cx '[0-9]*' out.txt)" = 200000 ] || fail "large output incomplete"
  # --results DIR: one file per command and stream instead.
  run_farm 0 --results res cmds
  [ "$(wc -l <res/3.out)" = 300 ] && [ "$(wc -l <res/3.err)" = 300 ] || fail "res/3.*"
  [ "$(tail -1 res/7.out)" = 200000 ] && [ ! -s res/7.err ] || fail "res/7.*"
  [ ! -s out.txt ] || fail "with --results nothing goes to stdout"
  ;;

usage)
  run_farm 0 --help
  grep -q -- "--joblog" out.txt || fail "--help does not list --joblog"
  run_farm 255 --no-such-flag
  grep -q "no-such-flag" err.txt || fail "a bad flag is not named"
  # The same with the first rank started late: the other ranks must not exit (and so make
  # mpirun kill the job) before the first rank has printed. The delay sets up the race; the
  # test waits for nothing.
  late=()
  for a in "${farm[@]}"; do
    if [[ $a == */farm ]]; then
      late+=(bash -c 'if [ "${OMPI_COMM_WORLD_RANK:-0}" = 0 ]; then sleep 1; fi; exec "$0" "$@"' "$a")
    else
      late+=("$a")
    fi
  done
  rc=0
  "${late[@]}" --no-such-flag >out.txt 2>err.txt || rc=$?
  [ "$rc" = 255 ] || fail "late first rank: exit $rc, expected 255"
  grep -q "no-such-flag" err.txt || fail "a bad flag is not named when the first rank is late"
  run_farm 255 --resume cmds
  grep -q "needs --joblog" err.txt || fail "--resume without --joblog"
  run_farm 255 no-such-file
  grep -q "no-such-file" err.txt || fail "a missing command file is not named"
  # Commands from stdin.
  printf 'echo from-stdin\n' | run_farm 0 -
  grep -qx from-stdin out.txt || fail "commands from stdin"
  ;;

*) fail "unknown case" ;;
esac
echo "ok: $case_name"
