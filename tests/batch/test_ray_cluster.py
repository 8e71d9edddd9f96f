"""A Ray cluster the engine starts itself (the other Ray tests share one the module starts): its actors
run as this process runs, not at the niceness 15 Ray gives workers, and it stops with the engine."""

from __future__ import annotations

import os
import sys

import pytest

from pagegen.batch.engines import EngineChoice, ServiceSpec, open_engine


def _niceness(service, context: None, user_ids: list[int]) -> int:
    return os.nice(0)


def test_a_cluster_started_for_an_export_runs_its_actors_as_this_process_runs(small_service):
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray's workers cannot import tests/
    assert not ray.is_initialized(), "another test left a Ray cluster running"
    spec = ServiceSpec(small_service.name, small_service.data_dir, tuple(small_service.generators))
    user = int(small_service.user_ids()[0])
    with open_engine(EngineChoice("ray", 1), spec) as running:
        (result,) = running.map_batches(_niceness, None, [[user]])
    assert result.value == os.nice(0)
    assert not ray.is_initialized()
