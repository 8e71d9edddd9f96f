"""Shared factories: a page service over a small synthetic dataset, with models small enough to train
in seconds."""

from __future__ import annotations

from pathlib import Path

from pagegen.data import SynthConfig, synthesize, write_dataset
from pagegen.serving import PageService

SMALL_SASREC = {"hidden": 16, "layers": 1, "heads": 1, "max_len": 20, "max_epochs": 2}
SMALL_MODELS = {"sasrec": SMALL_SASREC, "ease": {"l2": 10.0}}


def synthetic_service(
    directory: Path, *, items: int, users: int = 60, interactions: int = 2400, seed: int = 5, name: str = "synth"
) -> PageService:
    """A PageService over a synthetic dataset written to ``directory`` (its models trained on first use)."""
    config = SynthConfig(users=users, items=items, interactions=interactions, seed=seed)
    write_dataset(directory, name, synthesize(config), source="test")
    return PageService(name, directory, params=SMALL_MODELS)
