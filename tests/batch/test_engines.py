"""The engines: the same pages in this process, in local worker processes and on Ray actors; a batch whose
worker dies is run again; a batch that always kills its worker fails, naming itself."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from pagegen.batch.engines import (
    BATCH_ATTEMPTS,
    EngineChoice,
    EngineError,
    ServiceSpec,
    batch_size,
    open_engine,
    split_batches,
)
from pagegen.batch.export import PageSettings, export_pages, partition_path
from pagegen.errors import ConfigError
from pagegen.evaluation.pages import evaluate_pages
from pagegen.layout import resolve_layout
from pagegen.optimizer import NODE_LIMIT

SETTINGS = PageSettings(resolve_layout("default"), "greedy", NODE_LIMIT, "template", 2.0)


@pytest.fixture(scope="module")
def service(small_service):
    return small_service


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster for the module (engines join it rather than start their own)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import tests/
    yield ray
    ray.shutdown()


def _spec(service) -> ServiceSpec:
    return ServiceSpec(service.name, service.data_dir, tuple(service.generators))


def test_batches_split_users_in_order_by_count_alone():
    assert split_batches([5, 6, 7, 8, 9], 2) == [[5, 6], [7, 8], [9]]
    assert (batch_size(10), batch_size(943), batch_size(100_000)) == (16, 30, 256)


def test_a_bad_engine_choice_is_named():
    with pytest.raises(ConfigError, match="unknown engine 'spark'; engines: local, ray"):
        EngineChoice("spark")
    with pytest.raises(ConfigError, match="needs --engine ray"):
        EngineChoice("local", 2, "10.0.0.1:6379")


def test_every_engine_exports_the_same_bytes(service, tmp_path, ray_cluster):
    users = [int(u) for u in service.user_ids()[:6]]
    for name, workers in (("local", 1), ("local", 2), ("ray", 2)):
        report = export_pages(
            service, SETTINGS, users, tmp_path / f"{name}{workers}", engine=EngineChoice(name, workers), batch_users=2
        )
        assert (report.engine, report.workers, report.written) == (name, workers, 3)
    for index in range(3):
        expected = partition_path(tmp_path / "local1", index).read_bytes()
        assert partition_path(tmp_path / "local2", index).read_bytes() == expected
        assert partition_path(tmp_path / "ray2", index).read_bytes() == expected


def test_page_evaluation_runs_on_ray_as_in_process(service, ray_cluster):
    layout = resolve_layout("default")
    here = evaluate_pages(service, layout, optimizers=("greedy",), max_users=6, engine=EngineChoice("local", 1))
    there = evaluate_pages(service, layout, optimizers=("greedy",), max_users=6, engine=EngineChoice("ray", 2))
    assert dataclasses.replace(there, seconds=0.0) == dataclasses.replace(here, seconds=0.0)


def _die_once(service, marker: str, user_ids: list[int]) -> list[int]:
    """Kill this worker the first time it sees user ids[2]'s batch (the marker file remembers), else echo."""
    if user_ids[0] == 3 and not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return [user * 10 for user in user_ids]


def _always_die(service, context: None, user_ids: list[int]) -> list[int]:
    if user_ids[0] == 3:
        os._exit(1)
    return user_ids


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_batch_whose_worker_died_is_run_again(service, tmp_path, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_cluster")
    batches = split_batches([1, 2, 3, 4, 5, 6], 2)
    with open_engine(EngineChoice(engine, 2), _spec(service)) as running:
        results = {r.index: r.value for r in running.map_batches(_die_once, str(tmp_path / "died"), batches)}
    assert (tmp_path / "died").exists()
    assert results == {0: [10, 20], 1: [30, 40], 2: [50, 60]}


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_batch_that_kills_every_worker_fails_naming_itself(service, engine, request):
    if engine == "ray":
        request.getfixturevalue("ray_cluster")
    batches = split_batches([1, 2, 3, 4], 2)
    with (
        pytest.raises(EngineError, match=f"batch 1 .*failed on {BATCH_ATTEMPTS}"),
        open_engine(EngineChoice(engine, 2), _spec(service)) as running,
    ):
        list(running.map_batches(_always_die, None, batches))
