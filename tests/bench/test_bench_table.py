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
    # A file that is not JSON is refused, naming it.
    with open(bad, "w") as f:
        f.write("not json")
    r = run(bad)
    check(r.returncode != 0 and "bad.json" in r.stderr, "unreadable JSON names the file")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
