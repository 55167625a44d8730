#!/usr/bin/env bash
# Checks one behaviour of jobs/farm, run under the given launcher:
#   farm_test.sh CASE WORKDIR LAUNCHER... FARM
# e.g. farm_test.sh joblog /tmp/w mpiexec -n 2 --oversubscribe build/jobs/farm
# CASE is one of: joblog resume retries timeout exit-status output usage replace keep-order halt
# bar gnu. Every command below is the command under test, never a wait for something: waits are the
# farm's own. The 'gnu' case runs GNU parallel (Debian's 'parallel') on the same inputs and
# compares; it is skipped (exit 77) where parallel is not installed.
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
      if (NF == 9 && $5 != length($9)) { print "send " $5 " is not the command size"; bad = 1 }
    } END { exit bad }' log || fail "bad rows in $(cat log)"
  [ "$(cut -f1 log | tail -n +2 | sort -n | tr '\n' ' ')" = "1 2 3 4 5 " ] || fail "seqs: $(cut -f1 log)"
  # Exitval, Signal and Command of each row.
  [ "$(field log 1 7)/$(field log 1 8)/$(field log 1 9)" = "0/0/echo one" ] || fail "row 1"
  [ "$(field log 1 6)" = 4 ] || fail "Receive of 'echo one' should be its 4 bytes of output"
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
  # --resume skips every job in the joblog, failed or not (GNU parallel's meaning).
  run_farm 0 --joblog log --resume cmds
  grep -q "5 of 5 jobs are in the joblog, 0 to run" err.txt || fail "resume message: $(cat err.txt)"
  for k in 1 2 3 4 5; do [ "$(count_lines runs.$k)" = 1 ] || fail "--resume ran command $k again"; done
  run_farm 0 --joblog log --resume-failed cmds
  grep -q "3 of 5 jobs are in the joblog as succeeded, 2 to run" err.txt || fail "resume-failed message: $(cat err.txt)"
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
  run_farm 0 --joblog log --resume-failed cmds
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
  run_farm 0 --joblog log --retries 2 cmds
  [ "$(cat count)" = 2 ] || fail "ran $(cat count) times, expected 2"
  [ "$(wc -l <log)" = 2 ] && [ "$(field log 1 7)" = 0 ] || fail "joblog: $(cat log)"
  rm count
  run_farm 1 --joblog log cmds
  [ "$(cat count)" = 1 ] || fail "without --retries it must run once"
  echo 'echo x >>tries; exit 4' >cmds
  run_farm 1 --joblog log --retries 3 cmds
  [ "$(count_lines tries)" = 3 ] || fail "--retries 3 should run a failing command 3 times in all"
  [ "$(field log 1 7)" = 4 ] || fail "joblog: $(cat log)"
  ;;

timeout)
  # One command dies of SIGTERM; one ignores it and needs SIGKILL after the grace period.
  printf '%s\n' 'sleep 30' "trap '' TERM; sleep 30" 'echo quick' >cmds
  t0=$(date +%s)
  run_farm 2 --joblog log --timeout 1 --grace 1 cmds
  elapsed=$(($(date +%s) - t0))
  [ "$elapsed" -lt 20 ] || fail "took ${elapsed}s: the sleeps were not killed"
  [ "$(field log 1 7)/$(field log 1 8)" = -1/15 ] || fail "sleep 30 should be -1/15 (GNU parallel's): $(cat log)"
  [ "$(field log 2 7)/$(field log 2 8)" = -1/9 ] || fail "a command ignoring SIGTERM should get -1/9: $(cat log)"
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
  # A log taking both streams (> log 2>&1): mpirun forwards a rank's stdout and stderr on two
  # channels and does not keep their order, so the farm writes everything to stdout when both
  # end in one file. Nothing may come after the final count, and each command's stderr stays
  # after its stdout.
  rc=0
  "${farm[@]}" cmds >both.txt 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat both.txt; fail "farm cmds >both.txt 2>&1 exited $rc"; }
  last=$(tail -n 1 both.txt)
  [[ "$last" =~ ^farm:\ 7/7\ done,\ 0\ failed$ ]] ||
    fail "the last line of a 2>&1 log is '$last', not the final count"
  [ "$(grep -cx '[0-9]*' both.txt)" = 200000 ] || fail "large output incomplete in the 2>&1 log"
  for k in 1 2 3 4 5 6; do
    o=$(grep -n -m1 "^c$k out 300\$" both.txt | cut -d: -f1)
    e=$(grep -n -m1 "^c$k err 1\$" both.txt | cut -d: -f1)
    [ -n "$o" ] && [ -n "$e" ] && [ "$e" -gt "$o" ] ||
      fail "in the 2>&1 log, c$k's stderr is not after its stdout (lines $e, $o)"
  done
  # --results DIR: GNU parallel's layout, DIR/1/<input>/{stdout,stderr,seq} ('/' as '\_').
  run_farm 0 --results res cmds
  d3="res/1/$(sed -n 3p cmds | sed 's:/:\\_:g')"
  [ "$(wc -l <"$d3/stdout")" = 300 ] && [ "$(wc -l <"$d3/stderr")" = 300 ] || fail "$d3/*"
  [ "$(cat "$d3/seq")" = 3 ] || fail "$d3/seq"
  [ "$(tail -1 'res/1/seq 1 200000/stdout')" = 200000 ] && [ ! -s 'res/1/seq 1 200000/stderr' ] ||
    fail "res/1/seq 1 200000/*"
  [ ! -s out.txt ] || fail "with --results nothing goes to stdout"
  # With {#}: that directory per job.
  run_farm 0 --results 'per/{#}/' cmds
  [ "$(tail -1 per/7/stdout)" = 200000 ] && [ "$(cat per/7/seq)" = 7 ] || fail "per/7/*"
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
  run_farm 255 --halt sometimes cmds
  grep -q "never, soon or now" err.txt || fail "a bad --halt is not explained"
  run_farm 255 --halt now,fail=0 cmds
  grep -q "fail= takes" err.txt || fail "--halt fail=0 is not refused"
  run_farm 255 :::: no-such-file
  grep -q "no-such-file" err.txt || fail "a missing input file is not named"
  # Commands from stdin.
  printf 'echo from-stdin\n' | run_farm 0 -
  grep -qx from-stdin out.txt || fail "commands from stdin"
  ;;

replace)
  # Replacement strings, quoting, input sources and their combinations; {%} with -j.
  run_farm 0 -k echo '{#}:{}:{.}:{/}:{//}:{/.}' ::: dir/sub/a.tar.gz 'with space/b c.txt'
  [ "$(cat out.txt)" = "$(printf '%s\n' '1:dir/sub/a.tar.gz:dir/sub/a.tar:a.tar.gz:dir/sub:a.tar' \
    '2:with space/b c.txt:with space/b c:b c.txt:with space:b c')" ] || fail "replacements: $(cat out.txt)"
  # Values are shell-quoted: nothing in them is run or expanded.
  run_farm 0 echo ::: '$(touch pwned)' '*' "it's"
  [ ! -e pwned ] || fail "a value was run by the shell"
  [ "$(sort out.txt)" = "$(printf '%s\n' '$(touch pwned)' '*' "it's" | sort)" ] || fail "quoted: $(cat out.txt)"
  # Two sources: every combination, the first varying slowest; {1} {2}; a :::: file; -a.
  printf '%s\n' x y >vals
  run_farm 0 -k echo '{2}-{1}' ::: a b :::: vals
  [ "$(cat out.txt | tr '\n' ' ')" = "x-a y-a x-b y-b " ] || fail "combinations: $(cat out.txt)"
  printf 'p\nq\n' | run_farm 0 -k -a vals echo '{}' ::: 1
  [ "$(cat out.txt | tr '\n' ' ')" = "1 x 1 y " ] || fail "-a: $(cat out.txt)"
  # A template reading its values from stdin; the dry run prints the command lines only.
  printf 'one\ntwo\n' | run_farm 0 --dry-run -k 'touch ran.{}; echo'
  [ "$(cat out.txt | tr '\n' ' ')" = "touch ran.one; echo touch ran.two; echo " ] ||
    fail "--dry-run: $(cat out.txt)"
  ls ran.* >/dev/null 2>&1 && fail "--dry-run ran a command"
  # -j 3: three commands at once on each engine, each in a slot {%} of its own. The joblog shows
  # it: all that fit in three slots per engine (ranks - 1 engines) started before the first of
  # them ended. (With one rank the commands run inline on rank 0, one at a time.)
  ranks=1
  for ((i = 0; i < ${#farm[@]} - 1; i++)); do [ "${farm[i]}" = -n ] && ranks=${farm[i + 1]}; done
  run_farm 0 -j 3 --joblog log 'sleep 2; echo slot {%} seq {#}' ::: 1 2 3 4 5 6
  if [ "$ranks" -gt 1 ]; then
    awk -F'\t' 'NR > 1 { s[NR] = $3; e = $3 + $4; if (first == "" || e < first) first = e }
      END { for (k in s) n += s[k] < first; exit !(n >= need) }' \
      need=$((3 * (ranks - 1) < 6 ? 3 * (ranks - 1) : 6)) log ||
      fail "-j 3 did not run three commands at once on each engine: $(cat log)"
  fi
  [ "$(wc -l <out.txt)" = 6 ] || fail "-j 3: $(cat out.txt)"
  awk -v max=$((3 * ranks)) '{ if ($2 < 1 || $2 > max) bad = 1 } END { exit bad }' out.txt ||
    fail "{%} outside 1..$((3 * ranks)): $(cat out.txt)"
  ;;

keep-order)
  # Later commands finish first; -k prints in input order anyway.
  for k in 6 5 4 3 2 1; do echo "sleep 0.$k; echo line $((7 - k))"; done >cmds
  run_farm 0 -k -j 3 cmds
  [ "$(cat out.txt | tr '\n' ' ')" = "line 1 line 2 line 3 line 4 line 5 line 6 " ] ||
    fail "-k order: $(cat out.txt)"
  ;;

halt)
  # soon,fail=1: the failure's exit value is the farm's; nothing starts after it.
  printf '%s\n' 'exit 4' 'touch ran.2' 'touch ran.3' >cmds
  run_farm 4 --halt soon,fail=1 cmds
  grep -q "starting no more commands" err.txt || fail "no halt message: $(cat err.txt)"
  # now,fail=1: a running command is killed (Exitval -1, Signal 15), not waited for. That needs
  # two engines (one rank per command): at fewer ranks the failure comes first and nothing else
  # starts.
  ranks=1
  for ((i = 0; i < ${#farm[@]} - 1; i++)); do [ "${farm[i]}" = -n ] && ranks=${farm[i + 1]}; done
  if [ "$ranks" -ge 3 ]; then
    printf '%s\n' 'sleep 60' 'sleep 0.5; exit 3' >cmds
    t0=$(date +%s)
    run_farm 3 --halt now,fail=1 --joblog log cmds
    [ $(($(date +%s) - t0)) -lt 30 ] || fail "--halt now did not kill 'sleep 60'"
    [ "$(field log 1 7)/$(field log 1 8)" = -1/15 ] || fail "killed command's row: $(cat log)"
  else
    printf '%s\n' 'exit 3' 'touch ran.2' >cmds
    run_farm 3 --halt now,fail=1 --joblog log cmds
    [ ! -e ran.2 ] || fail "a command started after --halt now"
  fi
  # soon,fail=50%: 2 of 4 failing stops it, with the percentage as exit status.
  printf '%s\n' false false true true >cmds
  run_farm 50 --halt soon,fail=50% cmds
  ;;

gnu)
  if ! command -v parallel >/dev/null; then
    echo "SKIP: GNU parallel is not installed (Debian package 'parallel'; tools/setup.sh installs it)"
    exit 77
  fi
  # The same inputs through GNU parallel and the farm: joblog columns Seq, Exitval, Signal and
  # Command, the exit status and the -k output must agree.
  gnu_vs_farm() {   # gnu_vs_farm NAME ARGS...: runs both with ARGS and compares
    local name=$1 rc_g=0 rc_f=0
    shift
    parallel --joblog "g.$name" "$@" >"g.$name.out" 2>/dev/null </dev/null || rc_g=$?
    "${farm[@]}" --joblog "f.$name" "$@" >"f.$name.out" 2>"f.$name.err" </dev/null || rc_f=$?
    [ "$rc_g" = "$rc_f" ] || fail "$name: exit status: GNU parallel $rc_g, farm $rc_f ($(cat "f.$name.err"))"
    for f in "g.$name" "f.$name"; do
      awk -F'\t' 'NR > 1 { print $1 "\t" $7 "\t" $8 "\t" $9 }' "$f" | sort -n >"$f.cols"
    done
    diff "g.$name.cols" "f.$name.cols" >&2 || fail "$name: joblog columns differ (GNU <, farm >)"
    diff "g.$name.out" "f.$name.out" >&2 || fail "$name: -k output differs (GNU <, farm >)"
  }
  printf '%s\n' 'echo a' 'exit 3' 'kill -TERM $$' 'echo b; echo e >&2' 'sleep 0.2; echo c' >cmds
  gnu_vs_farm lines -k :::: cmds
  gnu_vs_farm template -k -j 2 'echo {#} {} {.} {/} {/.}' ::: a/b.c 'd e/f.g' x
  gnu_vs_farm combos -k echo '{2}{1}' ::: 1 2 3 ::: a b
  gnu_vs_farm timeout -k --timeout 1 ::: 'sleep 20' 'echo quick'
  gnu_vs_farm retries -k --retries 3 ::: 'echo x >>tries; exit 5'
  [ "$(wc -l <tries)" = 6 ] || fail "retries: GNU parallel and farm together should try 6 times"
  gnu_vs_farm halt -k -j 2 --halt soon,fail=1 ::: 'sleep 0.3; exit 6' 'echo first'
  # --resume and --resume-failed on a joblog each wrote: the same jobs run again.
  printf '%s\n' 'echo run >>r.$PPID.1' 'exit 2' 'echo run >>r.$PPID.3' >cmds
  for tool in g f; do
    rm -f "$tool.res"
    if [ $tool = g ]; then run=(parallel); else run=("${farm[@]}"); fi
    "${run[@]}" --joblog "$tool.res" :::: cmds >/dev/null 2>&1 || true
    "${run[@]}" --joblog "$tool.res" --resume :::: cmds >/dev/null 2>&1 || true
    "${run[@]}" --joblog "$tool.res" --resume-failed :::: cmds >/dev/null 2>&1 || true
    awk -F'\t' 'NR > 1 { print $1 "\t" $7 }' "$tool.res" | sort >"$tool.res.cols"
  done
  diff g.res.cols f.res.cols >&2 || fail "--resume / --resume-failed rows differ (GNU <, farm >)"
  ;;

bar)
  # On a terminal (MPIPLY_PROGRESS=redraw stands for one: it is what mpiply's terminal detection
  # answers, through mpirun too) the progress is mpiply's bar, one line redrawn; when stdout is
  # that terminal too the bar goes there, after the last command's output.
  printf '%s\n' 'echo one' 'exit 2' 'echo three; echo err3 >&2' >cmds
  MPIPLY_PROGRESS=redraw run_farm 1 -k cmds
  [ "$(grep -c $'\r' out.txt)" -ge 1 ] || fail "no redrawn bar on stdout: $(cat -v out.txt)"
  last=$(tail -1 out.txt | tr '\r' '\n' | tail -1)
  [[ $last == *"100%|"*"| 3/3 ["*", 1 failed]"* ]] || fail "final bar: $(tail -1 out.txt | cat -v)"
  [ "$(tr '\r' '\n' <out.txt | sed $'s/\e\\[K//g' | grep -cx 'one\|three')" = 2 ] ||
    fail "outputs: $(cat -v out.txt)"
  grep -q "farm: .* done" err.txt && fail "plain progress lines with a bar: $(cat err.txt)"
  grep -qx err3 err.txt || fail "stderr of a command: $(cat err.txt)"
  # Under the launcher on a real terminal (script(1) gives it one): the rank's stderr is a pipe
  # and its stdout a pty of mpirun's, yet the bar redraws, after each output.
  if command -v script >/dev/null; then
    quoted=$(printf '%q ' "${farm[@]}")
    rc=0
    script -qec "$quoted -k cmds" /dev/null >tty.txt 2>&1 </dev/null || rc=$?
    [ "$rc" = 1 ] || fail "under script: exit $rc: $(cat -v tty.txt)"
    grep -q $'\r100%|.*| 3/3 \\[' tty.txt || fail "no bar on a terminal: $(cat -v tty.txt)"
    grep -q $'\r 33%|.*| 1/3 \\[' tty.txt || fail "the bar is not redrawn after the first output: $(cat -v tty.txt)"
    grep -q 'farm: .* done' tty.txt && fail "plain progress lines on a terminal: $(cat -v tty.txt)"
  fi
  # In a log (ctest's pipe): plain lines, no control characters, the last one "N/N done".
  run_farm 1 cmds
  grep -q $'[\r\e]' err.txt out.txt && fail "control characters in a log"
  [ "$(grep '^farm: ' err.txt | tail -1)" = "farm: 3/3 done, 1 failed" ] || fail "log line: $(cat err.txt)"
  # --bar draws the bar on stderr whatever stderr is.
  run_farm 1 --bar cmds
  grep -q $'\r.*| 3/3 \\[' err.txt || fail "--bar: $(cat -v err.txt)"
  ;;

*) fail "unknown case" ;;
esac
echo "ok: $case_name"
