"""tools/bench-table.py on small fixtures: the doc's marked sections are rewritten from the JSON
files, the rest of the doc is left alone, and bad input is refused with a message.

    python3 test_bench_table.py <tools/bench-table.py> <fixtures dir>
"""
import os
import shutil
import subprocess
import sys
import tempfile

GENERATOR, FIXTURES = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED:", what)


def run(*args):
    return subprocess.run([sys.executable, GENERATOR, *args], capture_output=True, text=True)


DOC = """# Title
kept before
<!-- bench-table:definitions:begin -->
stale definitions
<!-- bench-table:definitions:end -->
kept between
<!-- bench-table:current:begin -->
stale table
<!-- bench-table:current:end -->
kept after
"""

with tempfile.TemporaryDirectory() as tmp:
    doc = os.path.join(tmp, "doc.md")
    with open(doc, "w") as f:
        f.write(DOC)
    bench = os.path.join(FIXTURES, "bench.json")
    peers = os.path.join(FIXTURES, "peers.json")
    r = run("--doc", doc, "--header", "Fixture sitting, shared machine", bench, peers)
    check(r.returncode == 0, f"generator exit code 0 (got {r.returncode}: {r.stderr})")
    text = open(doc).read()
    for kept in ("# Title", "kept before", "kept between", "kept after"):
        check(kept in text, f"text outside the markers kept: {kept!r}")
    check("stale" not in text, "the old sections replaced")
    check(text.count("bench-table:current:begin") == 1, "markers kept once")
    check("Fixture sitting, shared machine" in text, "header written")
    check("Sources: bench.json, peers.json." in text, "sources named")
    # The side-by-side table: raw MPI, mpiply and the peers from the same files.
    check("| no-op round trip, mean | us | 0.5 | 1.5 | 410 | - | 10.7 k |" in text,
          "round-trip means side by side")
    check("| no-op round trip, p99 | us | 1 | 5 | 650 | - | 40 k |" in text, "p99 side by side")
    check("| map of no-ops, chunksize 1 | items/s | 2 M | 1.2 M | 2300 | - | 560 |" in text,
          "chunksize-1 maps side by side")
    check("| start-up to first result | s |  | 0.9 | 1.5 | - | 4 |" in text, "start-up")
    check("ipyparallel: skipped" in text, "a skipped peer says so")
    # Each figure against its baseline, with the ratio the bench wrote and the target judged.
    check("| `apply_rtt_mean_us` | 1.5 | us | mean | `pingpong_rtt_mean_us` | 3 | "
          "<= 2 x baseline | no |" in text, "apply mean row: ratio 3 misses <= 2")
    check("| `apply_rtt_p99_us` | 5 | us | p99 | `pingpong_rtt_p99_us` | 5 | "
          "<= 4 x baseline | no |" in text, "apply p99 row")
    check("| `push_bw_gbs` | 9 | GB/s | best of 7 | `mpi_bw_huge_gbs` | 0.9 | "
          ">= 0.8 x baseline | yes |" in text, "push against the huge-page baseline")
    check("| `record_bytes_per_task` | 70 | B/task | one run |  |  | <= 64 | no |" in text,
          "a value target")
    check("| `apply_rtt_mean_us` | us | mean | `pingpong_rtt_mean_us` | <= 2 x baseline |" in
          text, "definitions table")
    # Regenerating gives the same file (nothing accumulates between the markers).
    first = text
    run("--doc", doc, "--header", "Fixture sitting, shared machine", bench, peers)
    check(open(doc).read() == first, "regenerating is idempotent")

    # An undefined key is refused, naming it; the doc is not touched.
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('{"apply_rtt_mean_us": 1.0, "new_figure_us": 2.0}')
    r = run("--doc", doc, bad)
    check(r.returncode != 0 and "new_figure_us" in r.stderr, "an undefined key is an error")
    check(open(doc).read() == first, "the doc is untouched after an error")
    r = run("--keys-only", bad)
    check(r.returncode != 0, "--keys-only fails on an undefined key")
    # An alias that disagrees with the key it repeats is refused.
    with open(bad, "w") as f:
        f.write('{"apply_rtt_median_us": 1.0, "apply_rtt_us": 2.0}')
    r = run(bad)
    check(r.returncode != 0 and "apply_rtt_us" in r.stderr, "a disagreeing alias is an error")
    # A doc without the markers is refused with the fix.
    nomark = os.path.join(tmp, "nomark.md")
    shutil.copy(os.path.join(FIXTURES, "bench.json"), os.path.join(tmp, "b.json"))
    with open(nomark, "w") as f:
        f.write("# no markers\n")
    r = run("--doc", nomark, os.path.join(tmp, "b.json"))
    check(r.returncode != 0 and "marker" in r.stderr, "missing markers are an error")
    # Several runs of the bench: each figure and each ratio the median of the runs' own, and the
    # table says so. Three runs of the fixture with the apply mean and its ratio changed.
    import json
    fixture = json.load(open(bench))
    paths = []
    for k, (mean, ratio) in enumerate([(1.5, 3.0), (4.0, 1.5), (1.0, 1.9)]):
        one = dict(fixture, apply_rtt_mean_us=mean, ratio_apply_rtt_mean_to_pingpong_mean=ratio)
        paths.append(os.path.join(tmp, f"run{k}.json"))
        with open(paths[-1], "w") as f:
            json.dump(one, f)
    r = run(*paths, peers)
    check(r.returncode == 0, f"three runs: exit code 0 (got {r.returncode}: {r.stderr})")
    check("| `apply_rtt_mean_us` | 1.5 | us | mean | `pingpong_rtt_mean_us` | 1.9 | "
          "<= 2 x baseline | yes |" in r.stdout, "three runs: medians of values and of ratios")
    check("median of 3 runs' own figures" in r.stdout, "three runs: the table says so")
    check("runs' own figures" not in open(doc).read(), "one run: no such note")
    with open(paths[0], "w") as f:
        json.dump(dict(fixture, mpi4py_futures_status="ok"), f)
    with open(paths[1], "w") as f:
        json.dump(dict(fixture, mpi4py_futures_status="skipped"), f)
    r = run(paths[0], paths[1])
    check(r.returncode != 0 and "differs between the files" in r.stderr,
          "text that differs between runs is an error")
    # A file that is not JSON is refused, naming it.
    with open(bad, "w") as f:
        f.write("not json")
    r = run(bad)
    check(r.returncode != 0 and "bad.json" in r.stderr, "unreadable JSON names the file")

# Another rank count's table: --section current-3 fills its own markers and leaves the 2-rank
# table alone; a name that is no table's section is refused, naming the fix.
with tempfile.TemporaryDirectory() as tmp:
    doc = os.path.join(tmp, "doc.md")
    with open(doc, "w") as f:
        f.write(DOC + "<!-- bench-table:current-3:begin -->\nstale three\n"
                      "<!-- bench-table:current-3:end -->\nkept after three\n")
    bench = os.path.join(FIXTURES, "bench.json")
    r = run("--doc", doc, "--section", "current-3", "--header", "3 ranks, fixture", bench)
    check(r.returncode == 0, f"--section current-3: exit code 0 (got {r.returncode}: {r.stderr})")
    text = open(doc).read()
    check("stale table" in text, "--section current-3 leaves the 2-rank table alone")
    check("stale three" not in text and "3 ranks, fixture" in text, "the 3-rank table written")
    three = text[text.find("bench-table:current-3:begin"):text.find("bench-table:current-3:end")]
    check("| `apply_rtt_mean_us` | 1.5 | us | mean |" in three, "the 3-rank section has the figures")
    check("| no-op round trip, mean | us | 0.5 | 1.5 |" in three, "side by side without peers")
    check("start-up to first result" not in three,
          "a pattern no file measured (start-up, from the peers' file) has no row")
    check("kept after three" in text, "text after the 3-rank section kept")
    for bad_section in ("current-x", "scale", "current-0"):
        r = run("--doc", doc, "--section", bad_section, bench)
        check(r.returncode != 0 and "current-<N>" in r.stderr,
              f"--section {bad_section} is refused with the fix")
    r = run("--doc", os.path.join(tmp, "doc.md"), "--section", "current-4", bench)
    check(r.returncode != 0 and "bench-table:current-4:begin" in r.stderr,
          "a section without its markers is refused, naming them")

# The scale section: scale-<N>.json files (every key ending in _<N>) fill a third marked section,
# and leave the current table alone; bench and peers files leave the scale section alone.
with tempfile.TemporaryDirectory() as tmp:
    doc = os.path.join(tmp, "doc.md")
    with open(doc, "w") as f:
        f.write(DOC + "<!-- bench-table:scale:begin -->\nstale scale\n"
                      "<!-- bench-table:scale:end -->\nkept between scale and model\n"
                      "<!-- bench-table:model:begin -->\nstale model\n"
                      "<!-- bench-table:model:end -->\nkept at the end\n")
    s2, s8 = (os.path.join(FIXTURES, f"scale-{n}.json") for n in (2, 8))
    r = run("--doc", doc, "--header", "Fixture sitting", bench, peers)
    check(r.returncode == 0, f"generator exit code 0 (got {r.returncode}: {r.stderr})")
    check("stale scale" in open(doc).read(), "no scale files: the scale section left alone")
    r = run("--doc", doc, "--scale-header", "Scale fixture, shared machine", s8, s2)
    check(r.returncode == 0, f"scale: exit code 0 (got {r.returncode}: {r.stderr})")
    text = open(doc).read()
    check("stale scale" not in text and "stale model" not in text, "scale and model replaced")
    check("kept between scale and model" in text and "kept at the end" in text,
          "text around the scale and model sections kept")
    check("Fixture sitting" in text and "Sources: bench.json, peers.json." in text,
          "scale files only: the current table left alone")
    check("Scale fixture, shared machine" in text, "scale header written")
    check("Sources: scale-8.json, scale-2.json." in text, "scale sources named")
    # Rows by rank count, ascending; CPU per result against the 2-rank figure, start-up against
    # the bare MPI_Init/MPI_Finalize program.
    i2 = text.find("| 2 | 2 | 1 | 0.5 | 1 | 3 | 1 | 1 | 0.8 | 1.25 | 0.3 | 0.05 | 0.01 | 0.002 | 0.001 | 0 | "
                   "0.001 |")
    i8 = text.find("| 8 | 3 | 1.5 | 1 | 2 | 1 | 2 | 4 | 2 | 2 | 1.5 | 0.2 | 0.04 | 0.004 | 0.008 | 3 | "
                   "0.002 |")
    check(i2 >= 0, "2-rank row")
    check(i8 > i2, "8-rank row, after the 2-rank one")
    check("2 -> 8 ranks (x4): registry agreement x4, engine communicator x2, "
          "clock alignment x8" in text, "each phase's growth against the ranks'")
    # The targets at the largest rank count, each beside plain MPI's own growth: CPU 3 / 2 = 1.5
    # (met), the farm's 1.0 / 0.5 = 2; start-up 4 / 2 = 2 (not met).
    check("at 8 ranks: rank-0 CPU per result x1.5 the 2-rank figure (target <= 1.5: met), "
          "where the plain-MPI farm's grew x2; start-up x2 the bare MPI_Init/MPI_Finalize "
          "program (target <= 1.2: not met)" in text, "the targets at the most ranks")
    # The rank-0 model, computed from the largest rank count's CPU per result (3 us), and a
    # column for each rank count's.
    check("c = 3 us of rank-0 CPU per result, so R = 1 / c = 333,333 results/s, and 1,000 "
          "engines stay busy only with tasks of at least 3 ms and 10,000 engines stay busy only "
          "with tasks of at least 30 ms." in text, "the model's figures from the JSON")
    check("| 10,000 | 20 ms | 30 ms |" in text, "L_min from each rank count's figure")
    check("| `startup_registry_s_<N>` | s |" in text, "scale keys defined")
    first = text
    run("--doc", doc, "--scale-header", "Scale fixture, shared machine", s8, s2)
    check(open(doc).read() == first, "regenerating the scale section is idempotent")
    r = run("--keys-only", "--require-all", s2, s8)
    check(r.returncode == 0, f"--require-all accepts complete scale files ({r.stderr})")
    # A scale file without one of its figures fails --require-all, naming the key.
    part = os.path.join(tmp, "scale-4.json")
    with open(part, "w") as f:
        f.write('{"rank0_cpu_per_result_us_4": 1.0, "startup_s_4": 1.0}')
    r = run("--keys-only", "--require-all", part)
    check(r.returncode != 0 and "mpi_init_finalize_s_4" in r.stderr,
          "--require-all names a missing scale key")
    # A doc without the scale markers is refused when scale files are given.
    nomark = os.path.join(tmp, "nomark.md")
    with open(nomark, "w") as f:
        f.write(DOC)
    r = run("--doc", nomark, s2)
    check(r.returncode != 0 and "bench-table:scale:begin" in r.stderr,
          "missing scale markers are an error")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
