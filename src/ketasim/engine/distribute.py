"""Where large jobs run: in this process, on a local Dask cluster, or on an existing one.

A job splits its work into tasks itself (chunks of patients fixed by the job); this module
only decides where the tasks run. ``mapper`` returns a ``map``-like function whose results
come back in task order, so the outcome never depends on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def mapper(
    scheduler: str | None = None, workers: int = 1
) -> Iterator[Callable[..., Iterable[Any]]]:
    """A map function for the job's tasks.

    ``scheduler``: the address of a running ``dask.distributed`` scheduler
    (``tcp://host:8786``); otherwise ``workers`` > 1 starts a ``LocalCluster`` of that many
    single-threaded worker processes for the duration of the job, and 1 runs in-process.
    """
    if scheduler is None and workers <= 1:
        yield map
        return
    from dask.distributed import Client, LocalCluster

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="20s")

    def dask_map(fn: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        futures = client.map(fn, *(list(it) for it in iterables), pure=False)
        return list(client.gather(futures))

    try:
        yield dask_map
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


__all__ = ["mapper"]
