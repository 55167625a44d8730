"""jobs/bench/peers/run_peers.py with small counts: it runs, exits 0, and writes every stable key;
each installed peer has figures, each missing one says it was skipped. With none of the three
packages installed the test is skipped (exit 77), not failed.

    python3 test_peers_smoke.py <run_peers.py> <bench binary> <output file>
"""
import importlib.util
import json
import subprocess
import sys

SCRIPT, BENCH, OUT = sys.argv[1:4]
PEERS = {"mpi4py_futures": "mpi4py.futures", "ipyparallel": "ipyparallel",
         "dask": "distributed"}
FIGURES = ["rtt_mean_us", "rtt_median_us", "rtt_p99_us", "map_chunk1_items_per_s",
           "map_chunk64_items_per_s", "startup_s"]


def importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


present = [p for p, m in PEERS.items() if importable(m)]
if not present:
    print("SKIP: none of python3-mpi4py, python3-ipyparallel, python3-distributed is "
          f"importable by {sys.executable}; tools/setup.sh installs them")
    sys.exit(77)

r = subprocess.run([sys.executable, SCRIPT, "--quick", "--mpiply-bench", BENCH, "--json", OUT],
                   timeout=280)
failures = []
if r.returncode != 0:
    failures.append(f"run_peers.py exit code {r.returncode}")
with open(OUT) as f:
    data = json.load(f)
expected = {"peers_rounds", "peers_map1_items", "peers_map64_items", "peers_engines",
            "mpiply_startup_s"}
expected |= {f"{p}_{k}" for p in PEERS for k in FIGURES + ["status"]}
if set(data) != expected:
    failures.append(f"keys differ: missing {sorted(expected - set(data))}, "
                    f"extra {sorted(set(data) - expected)}")
if not (isinstance(data.get("mpiply_startup_s"), float) and data["mpiply_startup_s"] > 0):
    failures.append(f"mpiply_startup_s is {data.get('mpiply_startup_s')!r}")
for p in PEERS:
    status = data.get(f"{p}_status", "")
    if p in present:
        if status != "ok":
            failures.append(f"{p}: status {status!r}")
        for k in FIGURES:
            v = data.get(f"{p}_{k}")
            if not (isinstance(v, (int, float)) and v > 0):
                failures.append(f"{p}_{k} is {v!r}, not a positive number")
    else:
        print(f"note: {p} not installed, skipped by the script: {status}")
        if not status.startswith("skipped"):
            failures.append(f"{p}: missing but status {status!r}")
for f in failures:
    print("FAILED:", f)
sys.exit(1 if failures else 0)
