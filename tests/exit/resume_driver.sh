#!/usr/bin/env bash
# Resume end to end with the task database (jobs/resume.cpp, docs/database.md):
#   resume_driver.sh LAUNCH... RESUME_BINARY
# 1. runs the map with a fresh database, waits (bounded) for its progress line at 600 items and
#    sends SIGUSR1 to mpiexec: the drain must end the job with 84;
# 2. runs it again with --crash-at 1500: the task of item 1500 segfaults its engine without
#    isolation and the whole job dies (any code but 0 and 84);
# 3. runs it again to completion: the sum must be right, and more tasks must be reused than the
#    first run finished, so the crashed run's results were journaled too.
# Waits poll the output with a bound; no sleep stands for an event. Exits 0 when all held.
set -u
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db=$dir/resume.db
out=$dir/out
fail() {
  echo "---- output of the last run ----"
  cat "$out"
  echo "resume-driver: FAIL: $*"
  exit 1
}

# 1. Interrupted by a drain. Tasks of 10 ms (20 s of work on one engine): the signal must arrive
# while tasks remain, however quickly a quiet machine gets through them (with the default 2 ms
# the last 1,400 items could end before SIGUSR1 reached rank 0, which then died of it, 138).
# The drain ends the run soon after the signal arrives.
set -m
"$@" --db "$db" --n 2000 --task-us 10000 >"$out" 2>&1 &
pid=$!
set +m
deadline=$((SECONDS + 90))
until grep -q '^resume: progress 600/2000$' "$out"; do
  kill -0 "$pid" 2>/dev/null || { wait "$pid"; fail "run 1 ended (rc $?) before 600 items"; }
  [ $SECONDS -lt $deadline ] || { kill -KILL "$pid"; fail "run 1: no progress line in 90 s"; }
  sleep 0.05
done
kill -USR1 "$pid"
deadline=$((SECONDS + 90))
while kill -0 "$pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || { kill -KILL "$pid"; fail "run 1 still running 90 s after SIGUSR1"; }
  sleep 0.05
done
wait "$pid"
rc=$?
[ "$rc" -eq 84 ] || fail "run 1 (SIGUSR1) exited $rc, expected 84"
grep -q "task database '.*' is not\|is locked" "$out" && fail "run 1: database refused"
first=$(sed -nE 's/^resume: progress ([0-9]+)\/2000$/\1/p' "$out" | tail -1)
echo "resume-driver: run 1 drained with 84 after at least $first items"

# 2. Killed by a crashing task (no isolation: the job dies).
timeout -s KILL 120 "$@" --db "$db" --n 2000 --crash-at 1500 >"$out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 84 ] && [ "$rc" -ne 137 ] || fail "run 2 (--crash-at) exited $rc"
grep -q 'item 1500 crashes its engine on purpose' "$out" || fail "run 2 did not reach item 1500"
grep -qE 'finished tasks from earlier runs can be reused' "$out" || fail "run 2 reused nothing"
echo "resume-driver: run 2 died with $rc at item 1500"

# The crashed run, inspected from the shell: dbinfo's query mode (when the test passes its path).
if [ -n "${MPIPLY_DBINFO:-}" ]; then
  "$MPIPLY_DBINFO" "$db" --run 2 --status ok --count >"$out" 2>&1 || fail "dbinfo --run 2 failed"
  grep -qE '^run 2: .*did not close' "$out" || fail "dbinfo: run 2 not shown as not closed"
  n2=$(sed -nE 's/^([0-9]+) tasks? match(es)?$/\1/p' "$out")
  [ -n "$n2" ] && [ "$n2" -gt 0 ] || fail "dbinfo: no ok tasks of the crashed run 2"
  echo "resume-driver: dbinfo finds $n2 ok tasks of the crashed run 2"
fi

# 3. To completion.
timeout -s KILL 120 "$@" --db "$db" --n 2000 --inspect >"$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "run 3 exited $rc"
grep -qE '^resume: sum [0-9]+ \(expected [0-9]+\): right;' "$out" || fail "run 3: wrong sum"
# The hub read the earlier runs back: the drained one closed, the crashed one did not, and a
# record of each decodes to a value of the map.
grep -qE '^resume: earlier run 1 (closed|did not close); [1-9][0-9]* ok and [0-9]+ failed tasks recorded$' "$out" ||
  fail "run 3: the drained run 1 not read back"
grep -qE '^resume: earlier run 2 did not close; [1-9][0-9]* ok and [0-9]+ failed tasks recorded$' "$out" ||
  fail "run 3: the crashed run 2 not read back"
[ "$(grep -cE '^resume: record [12]:[0-9]+ reads back [0-9]+ = x\*x \+ 1 for x = [0-9]+: right$' "$out")" -eq 2 ] ||
  fail "run 3: records of runs 1 and 2 did not read back right"
grep -E '^resume: (earlier run|record|first failure) ' "$out" | sed 's/^/resume-driver: /'
# A failure of an earlier run (a task the drain or the crash stopped) raises its error again.
if grep -q '^resume: first failure' "$out"; then
  [ "$(grep -c '^resume: first failure' "$out")" -eq "$(grep -c '^resume: its value raises mpiply::' "$out")" ] ||
    fail "run 3: a recorded failure did not raise its error when read back"
fi
grep -E '^resume: its value raises ' "$out" | sed 's/^/resume-driver: /'
reused=$(sed -nE "s/^mpiply: task database '.*': 2000 tasks recorded, ([0-9]+) reused from earlier runs$/\1/p" "$out")
[ -n "$reused" ] || fail "run 3: no database summary line"
md=$(sed -nE 's/^resume: sum .*; ([0-9]+) of 2000 tasks reused$/\1/p' "$out")
[ "$md" = "$reused" ] || fail "run 3: metadata says $md reused, the summary $reused"
# Run 1 finished about 600; run 2 reached item 1500 (minus at most the crash window's batch).
[ "$reused" -gt "$first" ] || fail "run 3 reused $reused tasks, not more than run 1's $first"
echo "resume-driver: run 3 right, $reused of 2000 tasks reused"
echo "resume-driver: PASS"
