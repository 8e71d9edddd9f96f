"""Stage 2b of the pipeline, between generators and rows: one calibrated ranker, so every row scores its
cards in the same unit (the probability that the user's next item is this one)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pagegen.generators.base import Generator, Validation
from pagegen.generators.training import TrainingData
from pagegen.progress import announce
from pagegen.ranker.calibrated import (
    RANKER,
    Ranker,
    RankerWeights,
    fit_ranker,
    fitted_on,
    load_ranker,
    ranker_path,
    save_ranker,
)
from pagegen.ranker.features import RANKED_GENERATORS, feature_names


def load_or_fit_ranker(
    generators: Mapping[str, Generator],
    data_dir: Path,
    data: TrainingData,
    validation: Validation,
    manifests: Mapping[str, Mapping[str, Any]],
    *,
    progress: bool = False,
) -> Ranker:
    """The saved ranker when it was fitted on these generators' saved arrays (``manifests``), else fit on
    ``validation`` and save it (a few seconds on ml-100k)."""
    provenance = fitted_on(generators, data, {name: m.get("arrays_sha256") for name, m in manifests.items()})
    path = ranker_path(data_dir, data)
    ranker = load_ranker(path, generators, data, provenance)
    if ranker is not None:
        return ranker
    announce(f"fitting the ranker on {data.dataset} ({data.split}): no saved ranker for these generators", progress)
    ranker = fit_ranker(generators, data, validation)
    save_ranker(ranker, path, provenance)
    return ranker


__all__ = [
    "RANKED_GENERATORS",
    "RANKER",
    "Ranker",
    "RankerWeights",
    "feature_names",
    "fit_ranker",
    "load_or_fit_ranker",
]
