"""The last evaluation results of a dataset, kept as JSON beside it so the dashboard's Insights page can
show them without running them again (``pagegen evaluate`` and ``pagegen evaluate-pages`` write them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pagegen.files import atomic_path

T = TypeVar("T")

REPORTS = {  # name → the command that writes it
    "generators": "pagegen evaluate --model all",
    "pages": "pagegen evaluate-pages",
    "scenarios": "pagegen evaluate-pages --scenarios",
}


def report_path(data_dir: Path, dataset: str, name: str) -> Path:
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}")
    return data_dir / dataset / "reports" / f"{name}.json"


def save_report(data_dir: Path, dataset: str, name: str, payload: dict[str, Any]) -> Path:
    """Replace the report atomically: a failed write leaves the last good one."""
    path = report_path(data_dir, dataset, name)
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    return path


def load_report(data_dir: Path, dataset: str, name: str) -> dict[str, Any] | None:
    """The saved report, or None when there is none or it cannot be read."""
    try:
        loaded = json.loads(report_path(data_dir, dataset, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def load_typed_report(data_dir: Path, dataset: str, name: str, read: Callable[[Mapping[str, Any]], T]) -> T | None:
    """The saved report as ``read`` (a report's ``from_dict``) builds it, or None when there is none or it
    is of another shape (an older version's, say)."""
    payload = load_report(data_dir, dataset, name)
    if payload is None:
        return None
    try:
        return read(payload)
    except (KeyError, TypeError):
        return None
