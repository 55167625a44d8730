"""bench --part scale --quick at 2 and 4 ranks through jobs/bench/run_scale.py: it exits 0 and
writes scale-2.json and scale-4.json, each with every scale figure of its rank count (rank 0's
CPU per result, start-up from the launch and the bare MPI_Init/MPI_Finalize program's, each
start-up phase) as a number, and tools/bench-table.py accepts them. Timings are not judged.

    python3 test_bench_scale.py <run_scale.py> <bench> <mpi_init_finalize> <bench-table.py> <dir>
"""
import json
import os
import subprocess
import sys

SCRIPT, BENCH, BARE, TABLE, OUT = sys.argv[1:6]
RANKS = (2, 4)
KEYS = ["rank0_cpu_per_result_us", "rank0_wall_per_result_us", "farm_rank0_cpu_per_task_us",
        "farm_wall_per_task_us",
        "scale_items", "startup_s",
        "mpi_init_finalize_s", "startup_mpi_init_s", "startup_run_s", "startup_registry_s",
        "startup_clock_align_s", "startup_clock_engines_measured", "startup_engine_comm_s",
        "startup_first_apply_s"]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED:", what)


for n in RANKS:  # a file left by an earlier run must not pass for this one's
    path = os.path.join(OUT, f"scale-{n}.json")
    if os.path.exists(path):
        os.remove(path)
r = subprocess.run([sys.executable, SCRIPT, "--bench", BENCH, "--init-finalize", BARE,
                    "--ranks", ",".join(map(str, RANKS)), "--out-dir", OUT, "--quick",
                    "--timeout", "120"], timeout=280)
check(r.returncode == 0, f"run_scale.py exit code 0 (got {r.returncode})")
files = []
for n in RANKS:
    path = os.path.join(OUT, f"scale-{n}.json")
    if not os.path.exists(path):
        check(False, f"{path} written")
        continue
    files.append(path)
    with open(path) as f:
        data = json.load(f)
    for key in KEYS:
        v = data.get(f"{key}_{n}")
        check(isinstance(v, (int, float)) and v >= 0, f"{key}_{n} is a number >= 0 (got {v!r})")
    check(data.get(f"startup_s_{n}", 0) > 0, f"startup_s_{n} > 0")
    check(data.get(f"rank0_cpu_per_result_us_{n}", 0) > 0, f"rank0_cpu_per_result_us_{n} > 0")
    check("first_result_unix_s" not in data, "first_result_unix_s replaced by startup_s_<N>")
if files:
    r = subprocess.run([sys.executable, TABLE, "--keys-only", "--require-all", *files])
    check(r.returncode == 0, "bench-table.py accepts the files (--keys-only --require-all)")
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
