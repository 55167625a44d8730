"""The tasks every peer runs: the same no-ops as mpiply's bench (jobs/bench/tasks.hpp).

They live in a module of their own, not in a __main__ script, so that every peer's workers
(MPI ranks, ipyparallel engines, Dask worker processes) import them by name from PYTHONPATH.
"""


def noop():
    """The round trip's task: no argument, no result."""
    return None


def noop_item(x):
    """The map's task: the identity on one integer, as mpiply's noop_item."""
    return x


def noop_chunk(xs):
    """A chunk of items for a peer whose map has no chunksize (Dask): one task per chunk."""
    return list(xs)
