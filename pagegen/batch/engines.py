"""Where per-user page work runs: in this process, in local worker processes, or on a Ray cluster.

Both engines run the same ``PageWorker``: it loads one dataset's page service once (models, row
builder) and then runs a task on batch after batch of users. ``local`` spawns one process per worker
and each loads the service from the data folder; ``ray`` puts the service's files (dataset and saved
models) in the object store once, and each actor loads them from there, so a cluster's nodes need only
pagegen installed, not the data. Batches come back as they finish; a batch whose worker died is run
again, up to ``BATCH_ATTEMPTS`` times, so a crash costs that batch's time and never its users.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pagegen.errors import ConfigError, PagegenError
from pagegen.vocabulary import ENGINES

if TYPE_CHECKING:
    from pagegen.serving import PageService

C = TypeVar("C")
R = TypeVar("R")
Task = Callable[["PageService", C, list[int]], R]  # (service, context, a batch's user ids) → the batch's result
BATCH_ATTEMPTS = 3  # a batch whose worker dies is run again, on a fresh worker, up to this many times in all
IN_FLIGHT_PER_WORKER = 2  # batches queued at each Ray actor: the next is there when one finishes
RAY_CONNECT_SECONDS = 5.0  # how long an --address gets to answer before the export gives up, writing nothing
RAY_INSTALL = "pip install 'pagegen[ray]' (ray==2.60.0)"


class EngineError(PagegenError):
    """An engine that cannot start (Ray missing, a cluster address that does not answer) or a batch
    that failed on every attempt."""


@dataclass(frozen=True)
class EngineChoice:
    """Which engine, how many workers (None: one per core here, or per CPU of the cluster joined), and
    (Ray) which cluster: ``address`` None starts a local one."""

    name: str = "local"
    workers: int | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ConfigError(f"unknown engine {self.name!r}; engines: {', '.join(ENGINES)}")
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"an engine needs at least one worker, got {self.workers}")
        if self.address is not None and self.name != "ray":
            raise ConfigError(f"--address names a Ray cluster; it needs --engine ray, not {self.name}")


TWO_LOCAL_WORKERS = EngineChoice("local", 2)  # the evaluations' default: these machines have two cores


@dataclass(frozen=True)
class ServiceSpec:
    """What every worker loads once: the page service of ``dataset`` saved under ``data_dir``."""

    dataset: str
    data_dir: Path
    models: tuple[str, ...]


@dataclass(frozen=True)
class BatchResult(Generic[R]):
    """One batch's result, with the worker's peak memory so far (for the export benchmark)."""

    index: int
    value: R
    worker_pid: int
    worker_peak_bytes: int


@dataclass(frozen=True)
class EngineTimings:
    """What starting an engine cost before any page: Ray's start-up, the object store's put, and the
    workers' loading (the slowest worker's), each in seconds."""

    start_seconds: float = 0.0
    put_seconds: float = 0.0
    put_bytes: int = 0
    load_seconds: float = 0.0


class PageWorker:
    """One worker's state: the page service, loaded once, and whatever tasks keep on it."""

    def __init__(self, service: PageService) -> None:
        self.service = service
        self.load_seconds = 0.0

    @classmethod
    def load(cls, spec: ServiceSpec) -> PageWorker:
        import torch

        from pagegen.serving import PageService

        torch.set_num_threads(1)  # one core per worker: workers with torch's own pools oversubscribe the cores
        started = time.perf_counter()
        worker = cls(PageService(spec.dataset, spec.data_dir, models=spec.models))
        worker.load_seconds = time.perf_counter() - started
        return worker

    def run(self, task: Task[C, R], context: C, index: int, user_ids: list[int]) -> BatchResult[R]:
        value = task(self.service, context, user_ids)
        return BatchResult(index, value, os.getpid(), _peak_bytes())


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes


class Engine:
    """Runs a task over batches of users; ``map_batches`` yields results as batches finish."""

    choice: EngineChoice
    workers: int
    timings: EngineTimings

    def map_batches(self, task: Task[C, R], context: C, batches: Sequence[list[int]]) -> Iterator[BatchResult[R]]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the workers (a local Ray cluster this engine started is shut down)."""


class InProcessEngine(Engine):
    """One worker: this process, with the service it already has."""

    def __init__(self, service: PageService, choice: EngineChoice) -> None:
        self.choice = choice
        self.workers = 1
        self.worker = PageWorker(service)
        self.timings = EngineTimings()

    def map_batches(self, task: Task[C, R], context: C, batches: Sequence[list[int]]) -> Iterator[BatchResult[R]]:
        for index, batch in enumerate(batches):
            yield self.worker.run(task, context, index, batch)


_process_worker: dict[str, PageWorker] = {}


def _start_process_worker(spec: ServiceSpec) -> None:
    _process_worker["worker"] = PageWorker.load(spec)


def _run_in_process_worker(task: Task[C, R], context: C, index: int, user_ids: list[int]) -> BatchResult[R]:
    return _process_worker["worker"].run(task, context, index, user_ids)


def _worker_ready() -> bool:
    return "worker" in _process_worker


class LocalEngine(Engine):
    """Worker processes on this machine, spawned fresh (forking a parent that runs torch's thread pools can
    hang); each loads the service from the data folder once."""

    def __init__(self, spec: ServiceSpec, choice: EngineChoice) -> None:
        self.spec = spec
        self.choice = choice
        self.workers = choice.workers or os.cpu_count() or 1
        self.pool = self._pool()
        started = time.perf_counter()
        # Every worker loads now, so the first batches do not pay for it and a broken service fails here.
        for loading in [self.pool.submit(_worker_ready) for _ in range(self.workers)]:
            loading.result()
        self.timings = EngineTimings(load_seconds=time.perf_counter() - started)

    def _pool(self) -> ProcessPoolExecutor:
        spawn = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            self.workers, mp_context=spawn, initializer=_start_process_worker, initargs=(self.spec,)
        )

    def map_batches(self, task: Task[C, R], context: C, batches: Sequence[list[int]]) -> Iterator[BatchResult[R]]:
        attempts = dict.fromkeys(range(len(batches)), 0)
        pending: dict[Future[BatchResult[R]], int] = {}
        waiting = list(range(len(batches)))[::-1]  # popped from the end: first batch first
        while waiting or pending:
            while waiting and len(pending) < self.workers * IN_FLIGHT_PER_WORKER:
                index = waiting.pop()
                attempts[index] += 1
                pending[self.pool.submit(_run_in_process_worker, task, context, index, batches[index])] = index
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                index = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    _check_attempts(index, attempts[index], batches[index])
                    waiting.append(index)
            if broken:  # every batch still queued in the broken pool is lost with it: run them again
                for index in pending.values():
                    _check_attempts(index, attempts[index], batches[index])
                    waiting.append(index)
                pending.clear()
                waiting.sort(reverse=True)
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._pool()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _check_attempts(index: int, attempts: int, batch: list[int]) -> None:
    if attempts >= BATCH_ATTEMPTS:
        raise EngineError(
            f"batch {index} (users {batch[0]}…{batch[-1]}) failed on {attempts} workers in a row; nothing of it "
            "was written. Rerun the same command to go on from the batches that were."
        )


class RayEngine(Engine):
    """Stateful Ray actors, one CPU each, on a local cluster (the machine's cores) or the one at ``address``.
    The service's files go into the object store once; each actor copies them into its own temporary
    folder and loads the service from there. Ray restarts an actor that dies and runs its batch again."""

    def __init__(self, spec: ServiceSpec, choice: EngineChoice) -> None:
        ray = _import_ray()
        self.choice = choice
        self.ray = ray
        started = time.perf_counter()
        self.owns_cluster = _connect(ray, choice)
        start_seconds = time.perf_counter() - started
        self.workers = choice.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        try:
            started = time.perf_counter()
            files = service_files(spec)
            self.files_ref = ray.put(files)  # kept alive here: restarted actors read it again
            put_seconds = time.perf_counter() - started
            actor = ray.remote(num_cpus=1, max_restarts=BATCH_ATTEMPTS - 1, max_task_retries=BATCH_ATTEMPTS - 1)(
                _RayPageActor
            )
            started = time.perf_counter()
            # The files go to each actor by a reference in a list, which the actor fetches itself: once now, and
            # again only when Ray restarted it (its constructor takes none, so a restart needs nothing kept).
            self.actors = [actor.remote(spec.dataset, spec.models) for _ in range(self.workers)]
            ray.get([a.load.remote([self.files_ref]) for a in self.actors])
            load_seconds = time.perf_counter() - started
        except BaseException:
            self.close()
            raise
        self.timings = EngineTimings(start_seconds, put_seconds, sum(len(b) for b in files.values()), load_seconds)

    def map_batches(self, task: Task[C, R], context: C, batches: Sequence[list[int]]) -> Iterator[BatchResult[R]]:
        ray = self.ray
        shared = ray.put((task, context, [self.files_ref]))  # once, not once per batch
        waiting = list(range(len(batches)))[::-1]
        pending: dict[Any, tuple[int, Any]] = {}  # ref → (batch index, actor)
        load = {id(a): 0 for a in self.actors}
        while waiting or pending:
            for actor in self.actors:
                while waiting and load[id(actor)] < IN_FLIGHT_PER_WORKER:
                    index = waiting.pop()
                    pending[actor.run.remote(shared, index, batches[index])] = (index, actor)
                    load[id(actor)] += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                index, actor = pending.pop(ref)
                load[id(actor)] -= 1
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayActorError as error:  # retries spent: the actor keeps dying
                    raise EngineError(
                        f"batch {index} failed on {BATCH_ATTEMPTS} attempts ({type(error).__name__}); nothing of it "
                        "was written. Rerun the same command to go on from the batches that were."
                    ) from None

    def close(self) -> None:
        if self.owns_cluster:
            self.ray.shutdown()


class _RayPageActor:
    """A Ray actor around ``PageWorker`` (made remote by ``RayEngine``, so importing this module needs no Ray).
    It loads the service from the object store's files on its first call after it starts or restarts."""

    def __init__(self, dataset: str, models: tuple[str, ...]) -> None:
        self.dataset, self.models = dataset, models
        self.worker: PageWorker | None = None

    def load(self, files: list[Any]) -> float:
        """Load the service unless loaded; its load's seconds."""
        if self.worker is None:
            import ray

            self.folder = tempfile.TemporaryDirectory(prefix="pagegen-worker-")
            data_dir = Path(self.folder.name)
            write_service_files(ray.get(files[0]), data_dir)
            self.worker = PageWorker.load(ServiceSpec(self.dataset, data_dir, self.models))
        return self.worker.load_seconds

    def run(self, shared: tuple[Task[C, R], C, list[Any]], index: int, user_ids: list[int]) -> BatchResult[R]:
        task, context, files = shared
        self.load(files)
        assert self.worker is not None
        return self.worker.run(task, context, index, user_ids)


def service_files(spec: ServiceSpec) -> dict[str, bytes]:
    """The files a page service reads, by path relative to the data folder: the dataset's tables and
    manifest, the saved models of ``spec.models`` (every split they were saved for) and the ranker fitted
    on them (a worker refitting it could land on other weights in the last digits)."""
    from pagegen.generators.artifacts import MODELS
    from pagegen.vocabulary import RANKER

    folder = spec.data_dir / spec.dataset
    paths = [
        p for p in folder.iterdir() if p.is_file() and p.suffix in (".parquet", ".json") and p.stem != "titles-cache"
    ]
    models = folder / MODELS
    if models.is_dir():
        saved = (*spec.models, RANKER)
        paths += [p for p in sorted(models.iterdir()) if p.is_file() and p.name.split(".")[0] in saved]
    return {str(p.relative_to(spec.data_dir)): p.read_bytes() for p in sorted(paths)}


def write_service_files(files: dict[str, bytes], data_dir: Path) -> None:
    for relative, content in files.items():
        path = (data_dir / relative).resolve()
        if data_dir.resolve() not in path.parents:  # names come from the driver's folder; still, never outside
            raise EngineError(f"refusing to write {relative!r} outside the worker's folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, which is not installed: {RAY_INSTALL}") from None
    return ray


def _connect(ray: Any, choice: EngineChoice) -> bool:
    """Join the cluster at ``choice.address``, else start a local one with a CPU per worker; True when
    this engine started the cluster (and so shuts it down)."""
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    if ray.is_initialized():
        return False
    if choice.address is None:
        # Ray nices its workers to 15: beside any busy process the actors then starve (943 ml-100k pages took
        # 310 s beside another export, against ~20 s alone). A cluster started for this export runs them as
        # this process runs, as the local engine's processes do.
        ray.init(num_cpus=choice.workers or os.cpu_count(), _system_config={"worker_niceness": 0}, **quiet)
        return True
    _check_reachable(choice.address)
    try:
        ray.init(address=choice.address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
    except Exception as error:  # Ray raises ConnectionError, RuntimeError or its own errors here
        raise EngineError(f"cannot join the Ray cluster at {choice.address}: {str(error).splitlines()[0]}") from None
    return False


def _check_reachable(address: str) -> None:
    """A TCP connection to the cluster's head within ``RAY_CONNECT_SECONDS``: Ray itself retries an
    unreachable address for minutes before it says so."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise EngineError(f"--address must be HOST:PORT (or ray://HOST:PORT, or auto), got {address!r}")
    try:
        with socket.create_connection((host, int(port)), timeout=RAY_CONNECT_SECONDS):
            pass
    except OSError as error:
        raise EngineError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


@contextlib.contextmanager
def open_engine(choice: EngineChoice, spec: ServiceSpec, service: PageService | None = None) -> Iterator[Engine]:
    """The engine ``choice`` names, started (workers loaded) and closed on leaving. One local worker runs
    in this process on ``service`` when given."""
    engine: Engine
    if choice.name == "ray":
        engine = RayEngine(spec, choice)
    elif choice.workers == 1 and service is not None:  # no process to start: the service is loaded
        engine = InProcessEngine(service, choice)
    else:
        engine = LocalEngine(spec, choice)
    try:
        yield engine
    finally:
        engine.close()


MAX_BATCH_USERS = 256  # users per batch at most: one task's work, seconds on one core
MIN_BATCH_USERS = 16
BATCHES_AT_LEAST = 32  # a small job still splits into this many batches, so workers finish together


def batch_size(users: int) -> int:
    """Users per batch: ``MAX_BATCH_USERS``, fewer for small jobs so that the last batches do not leave
    workers idle. It depends on the user count only, never on the engine or its workers: every engine
    splits a job the same way (an export's partitions are its batches, so a resume may change engine)."""
    return max(MIN_BATCH_USERS, min(MAX_BATCH_USERS, -(-users // BATCHES_AT_LEAST)))


def split_batches(user_ids: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive batches of at most ``size`` users, in order."""
    return [list(user_ids[start : start + size]) for start in range(0, len(user_ids), size)]
