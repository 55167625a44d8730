#!/usr/bin/env python3
"""The peers' figures beside mpiply's: mpi4py.futures, ipyparallel and Dask on bench's patterns.

    /usr/bin/python3 jobs/bench/peers/run_peers.py --json peers.json
    /usr/bin/python3 jobs/bench/peers/run_peers.py --quick --json peers.json   (small counts)

Each peer runs with one worker (mpiply's bench at 2 ranks has one engine), on loopback, in a
process of its own (peer.py), and is measured on the same patterns as mpiply's bench:
  - a no-op round trip: the mean over a loop, the median and p99 of calls timed one by one (us);
  - a map of no-ops at chunksize 1 and 64 (items/s);
  - start-up: from launching the peer's program to its first no-op result (s).
With --mpiply-bench BIN, mpiply's start-up is taken the same way (mpirun -n 2 BIN --part
startup). A peer whose Debian package (python3-mpi4py, python3-ipyparallel,
python3-distributed) is not importable is skipped with a line saying so; its keys stay in the
JSON file, as null, with <peer>_status saying why. The exit code is 0 unless a peer that is
installed failed to run.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# peer name -> (module that must be importable, Debian package that provides it)
PEERS = {
    "mpi4py_futures": ("mpi4py.futures", "python3-mpi4py"),
    "ipyparallel": ("ipyparallel", "python3-ipyparallel"),
    "dask": ("distributed", "python3-distributed"),
}
FIGURES = ("rtt_mean_us", "rtt_median_us", "rtt_p99_us", "map_chunk1_items_per_s",
           "map_chunk64_items_per_s", "startup_s")


def importable(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # As tools/mpi-env.sh: Open MPI as root (CI), TCP on loopback only.
    for key, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"), ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                       ("OMPI_MCA_btl_tcp_if_include", "lo"),
                       ("OMPI_MCA_oob_tcp_if_include", "lo")):
        env.setdefault(key, value)
    return env


def run_timed(cmd, out, timeout):
    """Runs cmd, which writes `out`; returns (figures, seconds from launch to first result)."""
    t_launch = time.time()
    proc = subprocess.run(cmd, env=child_env(), timeout=timeout, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        raise RuntimeError(f"exit code {proc.returncode}: {' '.join(cmd)}\n{tail}")
    with open(out) as f:
        figures = json.load(f)
    return figures, figures.pop("first_result_unix_s") - t_launch


def measure_peer(name, args, tmp):
    out = os.path.join(tmp, name + ".json")
    counts = ["--rounds", str(args.rounds), "--warmup", str(args.warmup), "--map1-items",
              str(args.map1_items), "--map64-items", str(args.map64_items), "--out", out]
    script = [sys.executable]
    if name == "mpi4py_futures":
        # Rank 0 runs the client, rank 1 is the one worker (python -m mpi4py.futures).
        script = [args.mpirun, "--oversubscribe", "-n", "2", sys.executable, "-m",
                  "mpi4py.futures"]
    figures, startup = run_timed(script + [os.path.join(HERE, "peer.py"), name] + counts, out,
                                 args.timeout)
    figures["startup_s"] = startup
    return figures


def measure_mpiply_startup(args, tmp):
    out = os.path.join(tmp, "mpiply.json")
    cmd = [args.mpirun, "--oversubscribe", "-n", "2", args.mpiply_bench, "--part", "startup",
           "--json", out]
    return run_timed(cmd, out, args.timeout)[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--json", metavar="FILE", help="write the figures to FILE as JSON")
    ap.add_argument("--quick", action="store_true",
                    help="small counts: checks the script works (CI); figures not meaningful")
    ap.add_argument("--only", metavar="PEERS", help="comma-separated subset of " +
                    ", ".join(PEERS))
    ap.add_argument("--rounds", type=int, help="round trips in each loop (default 500)")
    ap.add_argument("--map1-items", type=int, help="items of the chunksize-1 map (default 1000)")
    ap.add_argument("--map64-items", type=int,
                    help="items of the chunksize-64 map (default 20000)")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="seconds one peer may take before it counts as failed (default 120)")
    ap.add_argument("--mpirun", default="mpirun", help="MPI launcher (default mpirun)")
    ap.add_argument("--mpiply-bench", metavar="BIN",
                    help="mpiply's bench binary: also take mpiply's start-up the same way")
    args = ap.parse_args()
    small = args.quick
    args.rounds = args.rounds or (50 if small else 500)
    args.warmup = 10 if small else 50
    args.map1_items = args.map1_items or (100 if small else 1000)
    args.map64_items = args.map64_items or (640 if small else 20000)
    names = list(PEERS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in PEERS]
        if unknown:
            ap.error(f"--only: unknown peer {', '.join(unknown)}; the peers are "
                     f"{', '.join(PEERS)}")
    if "mpi4py_futures" in names or args.mpiply_bench:
        if shutil.which(args.mpirun) is None:
            ap.error(f"--mpirun: '{args.mpirun}' is not on PATH; install openmpi-bin or pass "
                     "the launcher's path")

    result = {"peers_rounds": args.rounds, "peers_map1_items": args.map1_items,
              "peers_map64_items": args.map64_items, "peers_engines": 1}
    failed = []
    with tempfile.TemporaryDirectory(prefix="mpiply-peers-") as tmp:
        if args.mpiply_bench:
            result["mpiply_startup_s"] = measure_mpiply_startup(args, tmp)
            print(f"mpiply: start-up {result['mpiply_startup_s']:.3f} s")
        for name in PEERS:
            module, package = PEERS[name]
            for key in FIGURES:
                result[f"{name}_{key}"] = None
            if name not in names:
                result[f"{name}_status"] = "not run (--only)"
                continue
            if not importable(module):
                why = f"skipped: {module} is not importable by {sys.executable} " \
                      f"(apt-get install {package})"
                result[f"{name}_status"] = why
                print(f"{name}: {why}")
                continue
            t0 = time.time()
            try:
                figures = measure_peer(name, args, tmp)
            except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError,
                    KeyError) as e:
                result[f"{name}_status"] = f"failed: {e}".splitlines()[0]
                print(f"{name}: failed: {e}", file=sys.stderr)
                failed.append(name)
                continue
            for key in FIGURES:
                result[f"{name}_{key}"] = figures[key]
            result[f"{name}_status"] = "ok"
            print(f"{name}: round trip mean {figures['rtt_mean_us']:.1f} us, median "
                  f"{figures['rtt_median_us']:.1f}, p99 {figures['rtt_p99_us']:.1f}; map "
                  f"chunksize 1 {figures['map_chunk1_items_per_s']:.0f} items/s, 64 "
                  f"{figures['map_chunk64_items_per_s']:.0f} items/s; start-up "
                  f"{figures['startup_s']:.2f} s ({time.time() - t0:.0f} s in all)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
