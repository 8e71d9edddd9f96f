"""Per-user evaluation work on an engine (``pagegen.batch.engines``): in this process, in local worker
processes or on Ray actors, each loading the dataset's PageService once.

The evaluations that build pages for many users (``evaluate_pages``, the scenario benchmark) hand
``map_users`` a task and the users; the task runs on batches of users and the results come back in
user order, whichever engine ran them and in whatever order the batches finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pagegen.batch.engines import EngineChoice, ServiceSpec, batch_size, open_engine, split_batches

if TYPE_CHECKING:
    from pagegen.serving import PageService

C = TypeVar("C")
R = TypeVar("R")
Task = Callable[["PageService", C, list[int]], list[R]]  # (service, context, user ids) → one result per user


def map_users(
    task: Task[C, R],
    context: C,
    user_ids: Sequence[int],
    *,
    service: PageService,
    engine: EngineChoice,
    progress: bool = False,
    desc: str = "users",
) -> list[R]:
    """``task``'s results for every user, in the order of ``user_ids``. Off this process, ``task`` must
    be a module-level function and ``context`` picklable; each worker loads the ``service``'s dataset
    and saved models once (they are saved by the time a service exists)."""
    from tqdm import tqdm

    batches = split_batches(user_ids, batch_size(len(user_ids)))
    by_batch: dict[int, list[R]] = {}
    spec = ServiceSpec(service.name, service.data_dir, tuple(service.generators))
    with (
        open_engine(engine, spec, service) as running,
        tqdm(total=len(user_ids), desc=desc, unit="user", disable=not progress) as bar,
    ):
        for result in running.map_batches(task, context, batches):
            by_batch[result.index] = result.value
            bar.update(len(batches[result.index]))
    return [value for index in range(len(batches)) for value in by_batch[index]]
