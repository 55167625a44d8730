#!/usr/bin/env python3
"""bench --part scale at several rank counts, each beside a bare MPI_Init/MPI_Finalize program.

    source tools/mpi-env.sh
    python3 jobs/bench/run_scale.py --bench build/jobs/bench \\
        --init-finalize build/jobs/mpi_init_finalize --ranks 2,8,32,128,256 --out-dir docs/bench-runs

For each N in --ranks, in turn and in this sitting: `mpirun --oversubscribe -n N` of the bare
program, timed from the launch to its exit (mpi_init_finalize_s_<N>), then of
`bench --part scale --json FILE`, whose start-up is the time from the launch to its first result
(startup_s_<N>, from the first_result_unix_s the bench writes); the bench's own keys (rank 0's CPU
per result, the start-up phases) are kept beside them in <out-dir>/scale-<N>.json. With
--repeats R, both run R times in turn and every figure is the median; with --retries K a launch
that failed is made again, up to K times, and the failure printed. --mpirun-flags adds flags
to every mpirun (e.g. "--mca btl self,vader"). The exit code is 0 unless a run failed.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def child_env():
    env = dict(os.environ)
    # As tools/mpi-env.sh: Open MPI as root (CI), TCP on loopback only.
    for key, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"), ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                       ("OMPI_MCA_btl_tcp_if_include", "lo"),
                       ("OMPI_MCA_oob_tcp_if_include", "lo")):
        env.setdefault(key, value)
    return env


def launch(cmd, timeout, retries):
    """Runs cmd until it exits 0, at most 1 + retries times; returns (launch time as Unix
    seconds, wall seconds to exit, output) of the run that succeeded."""
    for attempt in range(retries + 1):
        try:
            return launch_once(cmd, timeout)
        except RuntimeError as e:
            if attempt == retries:
                raise SystemExit(f"run_scale: {e}")
            print(f"run_scale: {e}\nrun_scale: launching again (--retries {retries})",
                  flush=True)


def launch_once(cmd, timeout):
    t_launch = time.time()
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=child_env(), timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"run_scale: no exit within {timeout:g} s (--timeout): "
                         f"{shlex.join(cmd)}")
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-40:])
        raise RuntimeError(f"exit code {proc.returncode}: {shlex.join(cmd)}\n{tail}")
    return t_launch, wall, proc.stdout


def one_sitting(n, args, tmp):
    """One bare program and one bench run at n ranks: the bench's figures plus the two times."""
    mpirun = [args.mpirun, "--oversubscribe", "-n", str(n)] + shlex.split(args.mpirun_flags)
    _, bare_s, _ = launch(mpirun + [args.init_finalize], args.timeout, args.retries)
    out = os.path.join(tmp, f"scale-{n}.json")
    cmd = mpirun + [args.bench, "--part", "scale", "--json", out] + (["--quick"] if args.quick
                                                                       else [])
    t_launch, _, text = launch(cmd, args.timeout, args.retries)
    sys.stdout.write(text)
    with open(out) as f:
        figures = json.load(f)
    first = figures.pop("first_result_unix_s", None)
    if first is None:
        raise SystemExit(f"run_scale: {args.bench} wrote no first_result_unix_s; is it a bench "
                         "with --part scale?")
    figures[f"startup_s_{n}"] = first - t_launch
    figures[f"mpi_init_finalize_s_{n}"] = bare_s
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--bench", required=True, help="the bench binary (build/jobs/bench)")
    ap.add_argument("--init-finalize", required=True,
                    help="the bare MPI program (build/jobs/mpi_init_finalize)")
    ap.add_argument("--ranks", default="2,8,32", help="comma-separated rank counts, each >= 2")
    ap.add_argument("--out-dir", required=True, help="where scale-<N>.json files go")
    ap.add_argument("--quick", action="store_true", help="bench --quick: small maps (CI)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each, medians (default 1)")
    ap.add_argument("--mpirun", default="mpirun", help="MPI launcher (default mpirun)")
    ap.add_argument("--mpirun-flags", default="", help="extra flags for every mpirun")
    ap.add_argument("--retries", type=int, default=0,
                    help="launch a run that failed again, up to this many times (default 0): "
                         "Open MPI 4.1 at 200+ oversubscribed ranks sometimes fails a whole job "
                         "at exit ('exiting improperly', PID 0)")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="seconds one launch may take (default 1800)")
    args = ap.parse_args()
    try:
        ranks = [int(x) for x in args.ranks.split(",")]
    except ValueError:
        ap.error(f"--ranks must be comma-separated integers, not '{args.ranks}'")
    if any(n < 2 for n in ranks):
        ap.error("--ranks: every count must be at least 2 (rank 0 is the client)")
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    for path in (args.bench, args.init_finalize):
        if not os.access(path, os.X_OK):
            ap.error(f"{path} is not an executable; build it with cmake --build build "
                     "--target bench mpi_init_finalize")
    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in ranks:
            runs = [one_sitting(n, args, tmp) for _ in range(args.repeats)]
            figures = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            path = os.path.join(args.out_dir, f"scale-{n}.json")
            with open(path, "w") as f:
                json.dump(figures, f, indent=2)
                f.write("\n")
            print(f"run_scale: {n} ranks: start-up {figures[f'startup_s_{n}']:.3f} s, bare "
                  f"MPI_Init/MPI_Finalize {figures[f'mpi_init_finalize_s_{n}']:.3f} s; wrote "
                  f"{path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
