#!/usr/bin/env python3
"""Writes docs/benchmarks.md's figure definitions, current table and scale table from bench's JSON.

    tools/bench-table.py --doc docs/benchmarks.md --header "..." bench-2.json peers.json
    tools/bench-table.py --doc docs/benchmarks.md --scale-header "..." scale-*.json
    tools/bench-table.py bench-2.json              (prints the tables; the doc is not touched)

Reads one or more JSON files written by `bench --json` and jobs/bench/peers/run_peers.py --json
(taken in the same sitting), merges them (a figure in several files, from several runs of the
bench, becomes the median of them), and writes two sections of the doc, each between its
marker comments: the definition of every figure (key, unit, statistic, baseline, target) and
the current table (mpiply beside raw MPI and the peers, then every figure against its
baseline). A key the definitions below do not know is an error, so a figure added to the bench
cannot go undocumented; --keys-only checks that and writes nothing. The scale-<N>.json files of
jobs/bench/run_scale.py (every key ending in _<N>) go to a third section, the scale table and
the rank-0 model's figures, two sections of their own (tools/bench_table_scale.py); a section
whose files are not given is left as it is.

--section current-<N> writes the current table into the section of that name instead (its own
markers, `<!-- bench-table:current-<N>:begin -->`): the table of another rank count, say 3, from
its own runs, beside the 2-rank one.
"""
import argparse
import json
import math
import re
import sys

import bench_table_scale as scale

# key, unit, statistic, baseline key (or a formula in words), ratio key, target, how.
# A target is (what, op, bound): what is "ratio" (against the baseline) or "value".
RATIO = "ratio_{}_to_baseline"
FIGURES = [
    ("pingpong_rtt_mean_us", "us", "mean", None, None, None,
     "8 bytes there and back between ranks 0 and 1 (MPI_Send / MPI_Recv on MPI_COMM_WORLD), "
     "one clock read around a loop of 50,000 after 2,000 warm-up rounds"),
    ("pingpong_rtt_median_us", "us", "median", None, None, None,
     "another 50,000 round trips, each timed on its own"),
    ("pingpong_rtt_p99_us", "us", "p99", None, None, None,
     "the same 50,000 timed round trips; p99 by nearest rank"),
    ("pingpong_rtt_p999_us", "us", "p99.9", None, None, None,
     "the same 50,000 timed round trips; p99.9 by nearest rank"),
    ("pingpong_rtt_max_us", "us", "max", None, None, None,
     "the slowest of the same 50,000 timed round trips"),
    ("pingpong_rtt_stall_share", "share", "one loop", None, None, None,
     "the part of those 50,000 round trips' total time spent in the ones over 10 x their "
     "median: what lifts a mean above its median"),
    ("pattern_rtt_mean_us", "us", "mean", "pingpong_rtt_mean_us",
     "ratio_pattern_rtt_mean_to_pingpong_mean", None,
     "context: mpiply's messaging for an apply in plain MPI, no mpiply code: rank 0 sends a "
     "no-op call's 36 bytes by MPI_Isend and polls a persistent MPI_ANY_SOURCE receive with "
     "MPI_Test; rank 1 polls its persistent receive and answers with a no-op result's 69 bytes "
     "(MPI_Send); a loop of 50,000 as the ping-pong's mean"),
    ("apply_rtt_mean_us", "us", "mean", "pingpong_rtt_mean_us",
     "ratio_apply_rtt_mean_to_pingpong_mean", ("ratio", "<=", 2),
     "`rc[0].apply_async(noop).get()`, one clock read around a loop of 50,000 after 500 "
     "warm-up calls"),
    ("apply_rtt_median_us", "us", "median", "pingpong_rtt_median_us",
     "ratio_apply_rtt_median_to_pingpong_median", None,
     "another 50,000 applies, each timed on its own"),
    ("apply_rtt_p99_us", "us", "p99", "pingpong_rtt_p99_us",
     "ratio_apply_rtt_p99_to_pingpong_p99", ("ratio", "<=", 4),
     "the same 50,000 timed applies"),
    ("apply_rtt_p999_us", "us", "p99.9", "pingpong_rtt_p999_us",
     "ratio_apply_rtt_p999_to_pingpong_p999", None, "the same 50,000 timed applies"),
    ("apply_rtt_max_us", "us", "max", None, None, None,
     "the slowest of the same 50,000 timed applies"),
    ("apply_rtt_stall_share", "share", "one loop", None, None, None,
     "the part of those 50,000 applies' total time spent in the ones over 10 x their median"),
    ("farm_send_w1_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "hand-written MPI farm: blocking MPI_Send of 8-byte tasks, 1 outstanding per worker, "
     "MPI_Recv(ANY_SOURCE) and refill; 10^6 tasks"),
    ("farm_send_w4_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "the same with 4 outstanding per worker"),
    ("farm_send_w16_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "the same with 16 outstanding per worker"),
    ("farm_send_w32_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "the same with 32 outstanding per worker (the deepest window mpiply gives an engine)"),
    ("farm_isend_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "the farm with MPI_Isend, one buffer per slot, `hwm` outstanding per worker"),
    ("farm_tasks_per_s", "tasks/s", "median of 3", None, None, None,
     "the tight farm: the best of the blocking farm at window `hwm` and the MPI_Isend farm, and, "
     "without MPIPLY_HWM, the blocking farm at windows 16 and 32 (mpiply deepens an engine's "
     "window up to 32 while its tasks run briefly)"),
    ("map_chunk1_items_per_s", "items/s", "median of 3", "farm_tasks_per_s",
     "ratio_map_chunk1_to_farm", ("ratio", ">=", 0.7),
     "`load_balanced_view().map_async(noop_item, items, {.chunksize = 1}).get()` over 10^5 "
     "int64 items, submit to get"),
    ("map_chunk64_items_per_s", "items/s", "one run", None, None, ("value", ">=", 5e6),
     "the same over 10^6 items at chunksize 64"),
    ("map_chunk1024_items_per_s", "items/s", "one run", "map_chunk64_items_per_s",
     "ratio_map_chunk1024_to_chunk64", ("ratio", ">", 1),
     "the same over 10^6 items at chunksize 1024"),
    ("mpi_bw_huge_gbs", "GB/s", "best of 7", None, None, None,
     "64 MiB by one MPI_Send from rank 0 into a warm receive buffer on huge pages "
     "(MADV_HUGEPAGE, as mpiply receives a push), closed by a 0-byte acknowledgement"),
    ("push_bw_gbs", "GB/s", "best of 7", "mpi_bw_huge_gbs", "ratio_push_bw_to_mpi_bw_huge",
     ("ratio", ">=", 0.8), "blocking `rc[0].push({{\"x\", v}})` of the same 64 MiB vector"),
    ("mpi_bw_gbs", "GB/s", "best of 7", None, None, None,
     "context: mpi_bw_huge_gbs into a plain std::vector (4 KiB pages)"),
    ("idle_engine_cpu_pct", "% of a core", "over 2 s", None, None, ("value", "<=", 2),
     "CPU (user + sys) of the busiest engine while the client sleeps 2 s after a busy spell"),
    ("idle_client_cpu_pct", "% of a core", "over 2 s", None, None, ("value", "<=", 2),
     "rank 0's own CPU over the same 2 s (its progress thread included)"),
    ("task_cost_us_1e3", "us/task", "mean", None, None, None,
     "wall time per task of chunksize-1 maps of 10^3 items: total over 21 maps / 21,000"),
    ("task_cost_us_1e6", "us/task", "mean", "task_cost_us_1e3", "ratio_task_cost_1e6_to_1e3",
     ("ratio", "<=", 1.25), "the same for one map of 10^6 items"),
    ("record_bytes_per_task", "B/task", "one run", None, None, ("value", "<=", 64),
     "growth of rank 0's resident memory over that 10^6-task map, results dropped"),
    ("kept_result_bytes_per_task", "B/task", "one run", None, None, None,
     "of which results the hub keeps for get_result"),
    ("iso_apply_rtt_mean_us", "us", "mean", "apply_rtt_mean_us", None, None,
     "apply_rtt_mean_us with the task isolated in the engine's worker process"),
    ("iso_apply_rtt_us", "us", "median", "apply_rtt_median_us", None, None,
     "apply_rtt_median_us, isolated"),
    ("iso_map_chunk1_items_per_s", "items/s", "median of 3", "map_chunk1_items_per_s", None,
     None, "map_chunk1_items_per_s, isolated"),
    ("iso_map_chunk64_items_per_s", "items/s", "one run", "map_chunk64_items_per_s", None,
     None, "map_chunk64_items_per_s, isolated"),
    ("dep_chain_tasks_per_s", "tasks/s", "mean", "1e6 / apply_rtt_mean_us", None, None,
     "10^4 applies, each `after` the one before, submitted back to back"),
    ("plain_map_items_per_s", "items/s", "one run", None, None, None,
     "a chunksize-1 map of 10^5 items"),
    ("dep_map_items_per_s", "items/s", "one run", "plain_map_items_per_s", None, None,
     "the same map with every task `after` one earlier, still running task"),
    ("mpi_recv_gbs", "GB/s", "best of 7", None, None, None,
     "64 MiB rank 1 -> 0 by MPI_Send into a warm huge-page buffer"),
    ("pull_into_gbs", "GB/s", "best of 7", "mpi_recv_gbs", None, ("ratio", ">=", 0.8),
     "`rc[0].pull_into(\"x\", span)` into a warm huge-page buffer"),
    ("mpi_recv_4k_gbs", "GB/s", "best of 7", None, None, None,
     "context: mpi_recv_gbs with both buffers plain std::vectors"),
    ("mpi_recv_fresh_gbs", "GB/s", "best of 7", None, None, None,
     "mpi_recv_gbs into a new, untouched buffer each time"),
    ("pull_gbs", "GB/s", "best of 7", "mpi_recv_fresh_gbs", None, None,
     "`rc[0].pull<std::vector<double>>(\"x\")`: a new vector each time"),
    ("mpi_scatterv_gbs", "GB/s", "best of 7", None, None, None,
     "MPI_Scatterv of 64 MiB from rank 0 (holding no share) to the other ranks"),
    ("mpi_scatter_isend_gbs", "GB/s", "best of 7", None, None, None,
     "the same by hand: every share's MPI_Isend posted at once"),
    ("scatter_gbs", "GB/s", "best of 7", "the better of the two above", None,
     ("ratio", ">=", 0.8), "`rc[all].scatter(\"s\", v)`"),
    ("mpi_gatherv_gbs", "GB/s", "best of 7", None, None, None,
     "MPI_Gatherv of the shares into a warm huge-page buffer on rank 0"),
    ("mpi_gather_irecv_gbs", "GB/s", "best of 7", None, None, None,
     "the same by hand: every share's MPI_Irecv posted at once"),
    ("gather_into_gbs", "GB/s", "best of 7", "the better of the two above", None,
     ("ratio", ">=", 0.8), "`rc[all].gather_into(\"s\", span)` into a warm huge-page buffer"),
    ("mpi_gather_fresh_gbs", "GB/s", "best of 7", None, None, None,
     "the better of the two gathers into a new, untouched buffer each time"),
    ("gather_gbs", "GB/s", "best of 7", "mpi_gather_fresh_gbs", None, None,
     "`rc[all].gather<double>(\"s\")`: a new vector each time"),
    ("boostmpi_send_gbs", "GB/s", "best of 7", None, None, None,
     "Boost.MPI sending a map of 256 vectors (64 MiB) from rank 0 to 1"),
    ("payload_push_gbs", "GB/s", "best of 7", "boostmpi_send_gbs", None, ("ratio", ">=", 1),
     "`rc[0].push` of the same map"),
    ("boostmpi_return_gbs", "GB/s", "best of 7", None, None, None,
     "the same map from rank 1 to 0 by Boost.MPI"),
    ("payload_pull_gbs", "GB/s", "best of 7", "boostmpi_return_gbs", None, ("ratio", ">=", 1),
     "`rc[0].pull` of the map"),
    ("db_map_off_items_per_s", "items/s", "one run", None, None, None,
     "map of no-ops at chunksize 1 (`--db-only` part), task database off"),
    ("db_map_on_items_per_s", "items/s", "one run", "db_map_off_items_per_s", "db_map_ratio",
     ("ratio", ">=", 0.8), "the same map with the task database on (`MPIPLY_DB`, checksums on)"),
    ("db_map_on_nochecksum_items_per_s", "items/s", "one run", None, None, None,
     "the same with the database on and checksums off (`MPIPLY_BENCH_NO_CHECKSUM=1`, a bench "
     "knob)"),
    ("db_checksum_ratio", "ratio", "one run", None, None, None,
     "`db_map_on_items_per_s` / `db_map_on_nochecksum_items_per_s`: what the checksums cost"),
    ("db_map_resumed_items_per_s", "items/s", "one run", None, None, None,
     "the same map again on the same database: every result reused"),
    ("hub_keep_growth_mb", "MiB", "one run", None, None, ("value", "<=", 64),
     "rank 0's peak resident growth over a stream of chunksize-1 tasks (`--keep-tasks`, "
     "default 2*10^6) with `hub_keep` 100,000"),
    ("purge_growth_ratio", "ratio", "means of 5", None, None, ("value", "<=", 1.1),
     "the same stream without a cap, `purge_everything` every tenth: rank 0's resident memory "
     "after the last five purges over that after the first five"),
    ("apply_loop_mean_us", "us", "mean", None, None, None,
     "a loop of `--keep-tasks` / 2 no-op applies on engine 0 (default 10^6), each get() before "
     "the next, timed as a whole, in a run without a cap (after the purge stream)"),
    ("apply_loop_bytes_per_call", "B/call", "one run", None, None, None,
     "rank 0's resident growth over that loop, per call: its record, submission and archived "
     "call"),
    ("apply_loop_capped_mean_us", "us", "mean", None, None, None,
     "the same loop with `hub_keep` 100,000 (after the capped stream): the oldest calls culled "
     "as new ones finish"),
    ("apply_loop_capped_bytes_per_call", "B/call", "one run", None, None, None,
     "rank 0's resident growth over the capped loop, per call: the first blocks only"),
]
# Keys earlier versions wrote, kept in the file: alias -> the key whose value it repeats.
ALIASES = {"pingpong_rtt_us": "pingpong_rtt_mean_us",
           "pingpong_round_rtt_us": "pingpong_rtt_median_us",
           "apply_rtt_us": "apply_rtt_median_us"}
PEERS = [("mpi4py_futures", "mpi4py.futures"), ("ipyparallel", "ipyparallel"), ("dask", "Dask")]
PEER_FIGURES = ["rtt_mean_us", "rtt_median_us", "rtt_p99_us", "map_chunk1_items_per_s",
                "map_chunk64_items_per_s", "startup_s"]
PEER_KEYS = ({"mpiply_startup_s", "peers_rounds", "peers_map1_items", "peers_map64_items",
              "peers_engines"} |
             {f"{p}_{f}" for p, _ in PEERS for f in PEER_FIGURES + ["status"]})
# The side-by-side rows: pattern, unit, raw MPI key, mpiply key, peer figure.
SIDE_BY_SIDE = [
    ("no-op round trip, mean", "us", "pingpong_rtt_mean_us", "apply_rtt_mean_us", "rtt_mean_us"),
    ("no-op round trip, median", "us", "pingpong_rtt_median_us", "apply_rtt_median_us",
     "rtt_median_us"),
    ("no-op round trip, p99", "us", "pingpong_rtt_p99_us", "apply_rtt_p99_us", "rtt_p99_us"),
    ("map of no-ops, chunksize 1", "items/s", "farm_tasks_per_s", "map_chunk1_items_per_s",
     "map_chunk1_items_per_s"),
    ("map of no-ops, chunksize 64", "items/s", None, "map_chunk64_items_per_s",
     "map_chunk64_items_per_s"),
    ("start-up to first result", "s", None, "mpiply_startup_s", "startup_s"),
]
MARKERS = {"definitions": ("<!-- bench-table:definitions:begin -->",
                           "<!-- bench-table:definitions:end -->"),
           "current": ("<!-- bench-table:current:begin -->",
                       "<!-- bench-table:current:end -->"),
           "scale": scale.MARKERS, "model": scale.MODEL_MARKERS}


def known_key(key):
    if key in ALIASES or key in PEER_KEYS or key.startswith("ratio_") or scale.is_scale_key(key):
        return True
    return any(key == f[0] or key == f[4] for f in FIGURES)


def num(v):
    """A figure in three significant digits, with k / M for large ones; '-' for none."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g} M"
    if a >= 1e4:
        return f"{v / 1e3:.3g} k"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def target_text(target):
    if target is None:
        return ""
    what, op, bound = target
    return f"{op} {num(bound)}" + (" x baseline" if what == "ratio" else "")


def holds(target, value, ratio):
    if target is None:
        return ""
    what, op, bound = target
    x = ratio if what == "ratio" else value
    if x is None:
        return "-"
    ok = {"<=": x <= bound, ">=": x >= bound, ">": x > bound}[op]
    return "yes" if ok else "no"


def baseline_value(fig, data):
    key, _, _, base, ratio_key, _, _ = fig
    ratio = data.get(ratio_key or RATIO.format(key)) if base else None
    return ratio


def definitions_table():
    lines = ["| key | unit | statistic | baseline | target | what it measures |",
             "|---|---|---|---|---|---|"]
    for key, unit, stat, base, _, target, how in FIGURES:
        base_text = f"`{base}`" if base and re.fullmatch(r"[a-z0-9_]+", base) else (base or "")
        lines.append(f"| `{key}` | {unit} | {stat} | {base_text} | {target_text(target)} | "
                     f"{how} |")
    return "\n".join(lines + scale.definitions_rows())


def run_median(key, values):
    """A key given by several runs' files: the median of their figures (of their own ratios, for
    a ratio: each compares two figures of one run). Text must agree."""
    if len(values) == 1:
        return values[0]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        v = sorted(values)
        n = len(v)
        return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    if all(v == values[0] for v in values):
        return values[0]
    raise SystemExit(f"bench-table: {key} differs between the files ({values}); only figures "
                     "can be combined")


def current_tables(data, header, sources, runs=1):
    out = [header, "", f"Sources: {', '.join(sources)}.", ""]
    if runs > 1:
        out += [f"Each figure is the median of {runs} runs' own figures, and each ratio the "
                f"median of the {runs} runs' own ratios (both sides of a ratio come from one "
                "run), so a ratio need not equal the quotient of the two medians shown.", ""]
    shown = [(p, name) for p, name in PEERS if f"{p}_status" in data]
    if any(k in data for k in ("apply_rtt_mean_us", "mpiply_startup_s")) or shown:
        cols = ["raw MPI", "mpiply"] + [name for _, name in shown]
        out += [f"| pattern | unit | {' | '.join(cols)} |",
                "|---|---|" + "---|" * len(cols)]
        for pattern, unit, mpi_key, mpiply_key, peer_fig in SIDE_BY_SIDE:
            keys = [mpi_key, mpiply_key] + [f"{p}_{peer_fig}" for p, _ in shown]
            if all(data.get(k) is None for k in keys if k):
                continue  # no file measured it (start-up comes with the peers' file)
            cells = [num(data.get(mpi_key)) if mpi_key else "", num(data.get(mpiply_key))]
            cells += [num(data.get(f"{p}_{peer_fig}")) for p, _ in shown]
            out.append(f"| {pattern} | {unit} | {' | '.join(cells)} |")
        notes = ["raw MPI: the ping-pong for the round trips, the hand-written farm "
                 "(`farm_tasks_per_s`) for the chunksize-1 map"]
        notes += [f"{name}: {data[f'{p}_status']}" for p, name in shown
                  if data[f"{p}_status"] != "ok"]
        if "peers_rounds" in data:
            notes.append(f"peers: {data['peers_engines']} worker, {data['peers_rounds']} round "
                         f"trips per loop, maps of {data['peers_map1_items']} and "
                         f"{data['peers_map64_items']} items")
        if notes:
            out += [""] + [f"- {n}" for n in notes]
        out.append("")
    rows = [f for f in FIGURES if f[0] in data]
    if rows:
        out += ["| key | value | unit | statistic | baseline | ratio | target | holds |",
                "|---|---|---|---|---|---|---|---|"]
        for fig in rows:
            key, unit, stat, base, _, target, _ = fig
            ratio = baseline_value(fig, data)
            value = data.get(key)
            base_text = f"`{base}`" if base and re.fullmatch(r"[a-z0-9_]+", base) else (base or "")
            ratio_text = f"{ratio:.3g}" if isinstance(ratio, (int, float)) else ""
            out.append(f"| `{key}` | {num(value)} | {unit} | {stat} | {base_text} | "
                       f"{ratio_text} | {target_text(target)} | {holds(target, value, ratio)} |")
    return "\n".join(out).rstrip() + "\n"


def markers(name):
    """The begin and end comments of a section: a fixed one, or current-<N>."""
    if name in MARKERS:
        return MARKERS[name]
    return (f"<!-- bench-table:{name}:begin -->", f"<!-- bench-table:{name}:end -->")


def replace_section(text, name, body, path):
    begin, end = markers(name)
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"bench-table: {path} has no '{begin}' ... '{end}' pair; add the two "
                         "marker lines where the section goes")
    return text[:i + len(begin)] + "\n" + body.rstrip() + "\n" + text[j:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("json", nargs="+", help="bench --json and run_peers.py --json files")
    ap.add_argument("--doc", help="rewrite the marked sections of this Markdown file")
    ap.add_argument("--header", default="",
                    help="the line above the table: when, where, how many ranks, how quiet")
    ap.add_argument("--scale-header", default="",
                    help="the line above the scale table: when, which ranks, how quiet")
    ap.add_argument("--section", default="current",
                    help="the section the current table goes to: current (2 ranks, the default) "
                         "or current-<N>, the table of N ranks from their own runs")
    ap.add_argument("--keys-only", action="store_true",
                    help="only check that every key in the files is defined here")
    ap.add_argument("--require-all", action="store_true",
                    help="with --keys-only: also require every defined figure, its ratio and "
                         "the earlier names (a full bench run's file), or every scale figure "
                         "at each rank count of the scale files")
    args = ap.parse_args()
    if not re.fullmatch(r"current(-[1-9][0-9]*)?", args.section):
        raise SystemExit(f"bench-table: --section {args.section!r} is not a table's section; "
                         "give current or current-<N> (N ranks), e.g. current-3")
    data, scale_data, sources, scale_sources = {}, {}, [], []
    runs = {}  # key -> its values in the bench files that have it (several runs of one sitting)
    for path in args.json:
        try:
            with open(path) as f:
                part = json.load(f)
        except (OSError, ValueError) as e:
            raise SystemExit(f"bench-table: cannot read {path}: {e}")
        if not isinstance(part, dict):
            raise SystemExit(f"bench-table: {path} is not a JSON object of figures")
        name = path.rsplit("/", 1)[-1]
        if scale.is_scale_file(part):
            scale_data.update(part)
            scale_sources.append(name)
        else:
            for key, value in part.items():
                runs.setdefault(key, []).append(value)
            sources.append(name)
    for key, values in runs.items():
        data[key] = run_median(key, values)
    data_runs = max((len(v) for v in runs.values()), default=0)
    unknown = sorted(k for k in list(data) + list(scale_data) if not known_key(k))
    if unknown:
        raise SystemExit("bench-table: keys not defined in tools/bench-table.py's FIGURES: " +
                         ", ".join(unknown) + "; add each with its unit, statistic and baseline")
    for alias, key in ALIASES.items():
        if alias in data and key in data and data[alias] != data[key]:
            raise SystemExit(f"bench-table: {alias} ({data[alias]}) differs from {key} "
                             f"({data[key]}), which it repeats")
    if args.keys_only:
        if args.require_all:
            wanted = set(ALIASES) | {f[0] for f in FIGURES}
            wanted |= {f[4] or RATIO.format(f[0]) for f in FIGURES if f[3]}
            missing = sorted(wanted - set(data)) if sources else []
            missing += scale.missing_keys(scale_data)
            if missing:
                raise SystemExit("bench-table: defined but not in the files: " +
                                 ", ".join(missing))
        print(f"bench-table: all {len(data) + len(scale_data)} keys defined")
        return 0
    sections = {"definitions": definitions_table()}
    if sources:
        sections[args.section] = current_tables(data, args.header, sources, data_runs)
    if scale_sources:
        sections["scale"] = scale.section(scale_data, args.scale_header, scale_sources)
        sections["model"] = scale.model(scale_data)
    if not args.doc:
        print("\n\n".join(sections.values()), end="")
        return 0
    with open(args.doc) as f:
        text = f.read()
    for name, body in sections.items():
        text = replace_section(text, name, body, args.doc)
    with open(args.doc, "w") as f:
        f.write(text)
    print(f"bench-table: rewrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
