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
  python3 jobs/bench/trace_segments.py --pairs DIR

--check: exit 1 unless the steps of an apply's round trip (rank 0 sends, the engine receives,
runs and answers, rank 0 receives and wakes the waiting thread) are all there, once per call.
tools/trace-points.sh runs it so.

--pairs: DIR holds the traces of runs of two builds taken in turn (subfolders a1, b1, a2, b2,
...; tools/trace-points.sh pair writes them). Steps are then taken within each thread (a
rank's own point to its next one, so rank 0's steps and the engine's stay apart) and each row
gives every run's median, A's and B's, the median of each side's medians and each side's lowest
median: a change shows as a shift that holds in every pair, or between the runs at the same
speed (this machine changes speed between runs, and a side's lowest is its fast runs').
"""
import argparse
import collections
import glob
import os
import statistics
import sys


def read_threads(dir_):
    """Each thread's points (ticks, name) without the calibration ones, ticks per ns, and
    what one point costs in ns (the median gap between back-to-back calibration points)."""
    threads = []
    per_ns = None
    calib = []  # gaps between back-to-back calibration points, in ticks
    for path in sorted(glob.glob(os.path.join(dir_, "*.trace"))):
        points = []
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
                points.append((t, name))
        threads.append(points)
    if per_ns is None:
        sys.exit(f"trace_segments: no .trace files in {dir_} (was the run traced, and "
                 "MPIPLY_TRACE_POINTS_DIR set?)")
    point_ns = statistics.median(calib) / per_ns if calib else 0.0
    return threads, per_ns, point_ns


def read(dir_):
    """Every thread's points merged into one timeline, ticks per ns, one point's cost in ns."""
    threads, per_ns, point_ns = read_threads(dir_)
    events = sorted(e for points in threads for e in points)
    return events, per_ns, point_ns


def thread_step_medians(dir_):
    """Median ns of each step within one thread, inside the timed loops of one run."""
    threads, per_ns, point_ns = read_threads(dir_)
    windows = []
    for t, name in sorted(e for points in threads for e in points):
        if name == "loop_begin":
            windows.append((t, None))
        elif name == "loop_end" and windows:
            windows[-1] = (windows[-1][0], t)
    windows = [w for w in windows if w[1] is not None]
    if not windows:
        sys.exit(f"trace_segments: no traced timed loop in {dir_}")
    steps = collections.defaultdict(list)
    for points in threads:
        prev = None
        for t, name in points:
            if not any(b <= t <= e for b, e in windows):
                prev = None
                continue
            if prev is not None:
                steps[(prev[1], name)].append(t - prev[0])
            prev = (t, name)
    return {k: statistics.median(v) / per_ns - point_ns for k, v in steps.items()
            if len(v) >= 1000}


def pairs(dir_):
    runs = {"a": [], "b": []}
    k = 1
    while os.path.isdir(os.path.join(dir_, f"a{k}")) and os.path.isdir(os.path.join(dir_, f"b{k}")):
        for side in "ab":
            runs[side].append(thread_step_medians(os.path.join(dir_, f"{side}{k}")))
        k += 1
    if not runs["a"]:
        sys.exit(f"trace_segments: no pairs of runs (a1, b1, ...) in {dir_}")
    keys = sorted(set().union(*runs["a"], *runs["b"]),
                  key=lambda s: -statistics.median([r.get(s, 0) for r in runs["a"]]))
    print(f"{len(runs['a'])} pairs; per-thread steps, medians in ns: every run's (A, then B), "
          "the median of each side's, and each side's lowest (its runs at the machine's fast "
          "speed)")
    print(f"{'step':38} {'A runs':>24} {'B runs':>24} {'A':>6} {'B':>6} {'A low':>6} "
          f"{'B low':>6}")
    fmt = lambda rs, s: " ".join(f"{r[s]:.0f}" if s in r else "-" for r in rs)
    for s in keys:
        a = [r[s] for r in runs["a"] if s in r]
        b = [r[s] for r in runs["b"] if s in r]
        ma = f"{statistics.median(a):.0f}" if a else "-"
        mb = f"{statistics.median(b):.0f}" if b else "-"
        la = f"{min(a):.0f}" if a else "-"
        lb = f"{min(b):.0f}" if b else "-"
        print(f"{s[0] + ' -> ' + s[1]:38} {fmt(runs['a'], s):>24} {fmt(runs['b'], s):>24} "
              f"{ma:>6} {mb:>6} {la:>6} {lb:>6}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--pairs", action="store_true")
    a = ap.parse_args()
    if a.pairs:
        return pairs(a.dir)
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
