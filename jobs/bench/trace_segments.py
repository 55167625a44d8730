#!/usr/bin/env python3
"""Where a round trip's time goes, from the trace points (src/support/trace_points.hpp).

Reads the *.trace files a traced run wrote into DIR (every rank and thread of one node), merges
their points into one timeline and, inside the bench's timed loops (loop_begin .. loop_end: the
apply loop of --part apply, where a call is one round trip; the maps of --part map, where a call
is a whole map and the steps are per task or per message), takes each step from one point to
the next, whichever rank or thread recorded them. Prints one
row per kind of step: how often it came, its median and mean in nanoseconds (less what one
point costs, measured at each thread's start) and its share of the loops' time. A step's
median is the figure to compare between builds; the sum of the rows is the loops' time.

  python3 jobs/bench/trace_segments.py DIR [--check]

--check: exit 1 unless the steps of an apply's round trip (rank 0 sends, the engine receives,
runs and answers, rank 0 receives and wakes the waiting thread) are all there, once per call.
tools/trace-points.sh runs it so.
"""
import argparse
import collections
import glob
import os
import statistics
import sys


def read(dir_):
    events = []  # (ticks, point name)
    per_ns = None
    calib = []  # gaps between back-to-back calibration points, in ticks
    for path in sorted(glob.glob(os.path.join(dir_, "*.trace"))):
        with open(path) as f:
            per_ns = float(f.readline().split()[1])
            names = dict(item.split("=") for item in f.readline().split()[1:])
            last_cal = None
            for line in f:
                p, t = line.split()
                name, t = names[p], int(t)
                if name == "calibrate":
                    if last_cal is not None:
                        calib.append(t - last_cal)
                    last_cal = t
                    continue
                events.append((t, name))
    if per_ns is None:
        sys.exit(f"trace_segments: no .trace files in {dir_} (was the run traced, and "
                 "MPIPLY_TRACE_POINTS_DIR set?)")
    events.sort()
    point_ns = statistics.median(calib) / per_ns if calib else 0.0
    return events, per_ns, point_ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    events, per_ns, point_ns = read(a.dir)
    steps = collections.defaultdict(list)
    inside = False
    calls = 0
    seen = collections.Counter()  # points inside the loops
    loop_ns = 0.0
    begin = None
    prev = None
    for t, name in events:
        if name == "loop_begin":
            inside, begin, prev = True, t, None
            continue
        if name == "loop_end" and inside:
            inside = False
            loop_ns += (t - begin) / per_ns
            continue
        if not inside:
            continue
        calls += name == "call"
        seen[name] += 1
        if prev is not None:
            steps[(prev[1], name)].append((t - prev[0]) / per_ns - point_ns)
        prev = (t, name)
    if calls == 0:
        sys.exit("trace_segments: no timed loop in the traces (bench --part apply and --part map "
                 "record one)")
    total = sum(sum(v) for v in steps.values())
    print(f"trace points: {calls} calls in the timed loops, {loop_ns / calls:.0f} ns a call; one "
          f"point costs {point_ns:.1f} ns (taken off every step)")
    print(f"{'step':44} {'count':>8} {'median ns':>10} {'mean ns':>9} {'share':>7}")
    for (a_, b_), v in sorted(steps.items(), key=lambda kv: -sum(kv[1])):
        share = 100 * sum(v) / total if total else 0
        if share < 0.5:
            continue
        print(f"{a_ + ' -> ' + b_:44} {len(v):8d} {statistics.median(v):10.0f} "
              f"{statistics.mean(v):9.0f} {share:6.1f}%")
    if a.check:
        # The round trip of an apply, in order; each step at least once per call.
        trip = ["call", "submit_locked", "dispatch", "task_sent", "task_arrived", "task_run",
                "task_ran", "result_sent", "result_arrived", "result_handled", "wait_done", "got"]
        missing = [p for p in trip if seen[p] < calls]
        if missing:
            print(f"trace_segments: points missing from some round trips: {missing}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
