"""One peer's figures, in a process of its own (run_peers.py launches it and times its start-up).

    python3 peer.py {ipyparallel,dask} --out FILE [--rounds N --map1-items N --map64-items N]
    mpirun -n 2 python3 -m mpi4py.futures peer.py mpi4py_futures --out FILE ...

Each peer runs one worker (engine), as mpiply's bench at 2 ranks: client plus one engine. The
file gets the wall-clock time the first no-op came back (for the start-up figure), the round
trip (mean, median, p99 in us) and the maps at chunksize 1 and 64 (items/s).
"""
import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

import peer_stats
import peer_tasks


@contextlib.contextmanager
def mpi4py_futures_pool():
    # Started under `mpirun -n 2 python3 -m mpi4py.futures`: rank 1 is already a worker, so the
    # executor uses it instead of spawning one.
    from mpi4py.futures import MPIPoolExecutor

    with MPIPoolExecutor() as ex:
        yield (lambda: ex.submit(peer_tasks.noop).result(),
               lambda items, chunk: list(ex.map(peer_tasks.noop_item, items, chunksize=chunk)))


@contextlib.contextmanager
def ipyparallel_pool():
    # A controller and one engine on loopback, in a profile directory of their own.
    import ipyparallel as ipp

    cluster = ipp.Cluster(n=1, controller_ip="127.0.0.1", log_level=40)
    rc = cluster.start_and_connect_sync()
    try:
        rc.wait_for_engines(1, timeout=60)
        e0 = rc[0]
        lview = rc.load_balanced_view()
        yield (lambda: e0.apply_async(peer_tasks.noop).get(),
               lambda items, chunk: lview.map_sync(peer_tasks.noop_item, items,
                                                   chunksize=chunk))
    finally:
        rc.close()
        cluster.stop_cluster_sync()


@contextlib.contextmanager
def dask_pool():
    # One worker process with one thread on loopback, no dashboard. Dask's map has no
    # chunksize: at chunksize c > 1 each task is noop_chunk over c items.
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)

    def run_map(items, chunk):
        if chunk == 1:
            return client.gather(client.map(peer_tasks.noop_item, items, pure=False))
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        out = client.gather(client.map(peer_tasks.noop_chunk, chunks, pure=False))
        return [x for part in out for x in part]

    try:
        yield (lambda: client.submit(peer_tasks.noop, pure=False).result(), run_map)
    finally:
        client.close()
        cluster.close()


POOLS = {"mpi4py_futures": mpi4py_futures_pool, "ipyparallel": ipyparallel_pool,
         "dask": dask_pool}


def measure(name, args):
    figures = {}
    with POOLS[name]() as (noop, run_map):
        noop()
        figures["first_result_unix_s"] = time.time()
        rtt = peer_stats.round_trip(noop, args.rounds, args.warmup)
        for stat in ("mean", "median", "p99"):
            figures[f"rtt_{stat}_us"] = rtt[stat]
        warm = list(range(min(args.map1_items, 100)))
        run_map(warm, 1)
        figures["map_chunk1_items_per_s"] = peer_stats.map_rate(
            lambda xs: run_map(xs, 1), list(range(args.map1_items)))
        figures["map_chunk64_items_per_s"] = peer_stats.map_rate(
            lambda xs: run_map(xs, 64), list(range(args.map64_items)))
    return figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", choices=sorted(POOLS))
    ap.add_argument("--out", required=True, help="write the figures to this JSON file")
    ap.add_argument("--rounds", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--map1-items", type=int, default=1000)
    ap.add_argument("--map64-items", type=int, default=20000)
    args = ap.parse_args()
    if args.peer == "ipyparallel" and "IPYTHONDIR" not in os.environ:
        os.environ["IPYTHONDIR"] = tempfile.mkdtemp(prefix="mpiply-peers-ipython-")
    figures = measure(args.peer, args)
    with open(args.out, "w") as f:
        json.dump(figures, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
