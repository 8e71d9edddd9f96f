"""Per-user work split across worker processes, each loading the dataset's PageService once.

The evaluations that build pages for many users (``evaluate_pages``, the scenario benchmark) hand
``map_users`` a task and the users; the task runs on chunks of users, in this process when there is one
worker, else in spawned processes (one HiGHS thread each), and the results come back in user order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from pagegen.serving import PageService

C = TypeVar("C")
R = TypeVar("R")
Task = Callable[["PageService", C, list[int]], list[R]]  # (service, context, user ids) → one result per user
CHUNKS_PER_WORKER = 8

_worker: dict[str, Any] = {}


def map_users(
    task: Task[C, R],
    context: C,
    user_ids: Sequence[int],
    *,
    service: PageService,
    workers: int = 1,
    progress: bool = False,
    desc: str = "users",
) -> list[R]:
    """``task``'s results for every user, in the order of ``user_ids``. With more than one worker,
    ``task`` must be a module-level function and ``context`` picklable; each worker loads the
    ``service``'s dataset from its data folder once (its models are saved by then)."""
    from tqdm import tqdm

    chunks = [
        c.tolist() for c in np.array_split(np.array(user_ids, dtype=np.int64), max(1, workers * CHUNKS_PER_WORKER))
    ]
    chunks = [chunk for chunk in chunks if chunk]
    results: list[R] = []
    with tqdm(total=len(user_ids), desc=desc, unit="user", disable=not progress) as bar:
        if workers <= 1:
            for chunk in chunks:
                results += task(service, context, chunk)
                bar.update(len(chunk))
            return results
        # Fresh interpreters: forking a parent that already runs torch's thread pools can hang.
        spawn = multiprocessing.get_context("spawn")
        initargs = (service.name, str(service.data_dir))
        with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=initargs) as pool:
            futures = [pool.submit(_run, task, context, chunk) for chunk in chunks]
            for future, chunk in zip(futures, chunks, strict=True):
                results += future.result()
                bar.update(len(chunk))
    return results


def _start_worker(dataset: str, data_dir: str) -> None:
    import torch

    from pagegen.serving import PageService

    torch.set_num_threads(1)  # one core per worker: two workers with torch's own pools oversubscribe two cores
    _worker["service"] = PageService(dataset, Path(data_dir))


def _run(task: Task[C, R], context: C, user_ids: list[int]) -> list[R]:
    return task(_worker["service"], context, user_ids)
