"""The statistics of a round trip and of a map, computed exactly as mpiply's bench does.

mean: one clock read around a loop of calls; median and p99 (nearest rank): a second loop that
times every call on its own (jobs/bench/common.hpp, RoundTrip).
"""
import math
import time


def percentile(samples, p):
    """The p-th percentile by nearest rank (0 < p <= 100); 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = math.ceil(p / 100.0 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def median(samples):
    if not samples:
        return 0.0
    ordered = sorted(samples)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return 0.5 * (ordered[mid - 1] + ordered[mid])


def round_trip(call, rounds, warmup):
    """Microseconds per call(): {'mean', 'median', 'p99'} over `rounds` calls each way."""
    for _ in range(warmup):
        call()
    t0 = time.perf_counter()
    for _ in range(rounds):
        call()
    mean = (time.perf_counter() - t0) / rounds * 1e6
    each = []
    for _ in range(rounds):
        t1 = time.perf_counter()
        call()
        each.append((time.perf_counter() - t1) * 1e6)
    return {"mean": mean, "median": median(each), "p99": percentile(each, 99)}


def map_rate(run_map, items):
    """Items per second of run_map(items), which must return the results in order."""
    t0 = time.perf_counter()
    out = run_map(items)
    dt = time.perf_counter() - t0
    if len(out) != len(items) or (items and out[-1] != items[-1]):
        raise RuntimeError("map returned wrong results")
    return len(items) / dt
