"""Where datasets live on disk and how they are written: atomically, or not at all.

Layout: ``<data dir>/<dataset>/{interactions,items,users,tags}.parquet`` plus ``manifest.json``
(source, counts, content fingerprint). Downloads are cached in ``<data dir>/_downloads/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

import pagegen
from pagegen.data import schema as S
from pagegen.errors import DataDirError, DatasetNotPreparedError, DataSourceError
from pagegen.files import atomic_path, file_sha256

DATA_DIR_ENV = "PAGEGEN_DATA_DIR"
MANIFEST = "manifest.json"
TABLES = ("interactions", "items", "users", "tags")
DATASET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the argument, else ``$PAGEGEN_DATA_DIR``, else ``./data``."""
    return Path(data_dir or os.environ.get(DATA_DIR_ENV) or "data")


def ensure_writable(directory: Path) -> Path:
    """Create ``directory`` if needed and prove we can write there, or say why not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-probe-"):
            pass
    except OSError as error:
        raise DataDirError(
            f"data directory {str(directory)!r} is not writable ({error.strerror or error}); "
            f"choose another with --data-dir or ${DATA_DIR_ENV}"
        ) from error
    return directory


@dataclass(frozen=True)
class Dataset:
    """A prepared dataset: its normalized tables and the manifest written with them."""

    name: str
    interactions: pl.DataFrame
    items: pl.DataFrame
    users: pl.DataFrame | None = None
    tags: pl.DataFrame | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Content hash of the stored tables: later stages key their artifacts on it."""
        return str(self.manifest.get("fingerprint", ""))


def write_dataset(data_dir: Path, name: str, tables: dict[str, pl.DataFrame | None], *, source: str) -> Path:
    """Write the tables of dataset ``name``: all are written to temporary files first, then renamed
    into place with the manifest last, so a failure at any point leaves the last good dataset whole.

    A table that is ``None`` is removed, so no stale table from an earlier source stays behind.
    """
    directory = ensure_writable(data_dir / check_dataset_name(name))
    digest = hashlib.sha256()
    counts = {}
    with ExitStack() as renames:  # exits in reverse: tables are renamed into place, then the manifest
        manifest_temp = renames.enter_context(atomic_path(directory / MANIFEST))
        for table in TABLES:
            frame = tables.get(table)
            if frame is None:
                continue
            temp = renames.enter_context(atomic_path(directory / f"{table}.parquet"))
            frame.write_parquet(temp)
            digest.update(table.encode() + file_sha256(temp).encode())
            counts[table] = frame.height
        manifest = {
            "dataset": name,
            "source": source,
            "counts": counts,
            "fingerprint": digest.hexdigest()[:16],
            "prepared_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "pagegen_version": pagegen.__version__,
        }
        manifest_temp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for table in TABLES:
        if tables.get(table) is None:
            (directory / f"{table}.parquet").unlink(missing_ok=True)
    return directory


def is_prepared(data_dir: Path, name: str) -> bool:
    return (data_dir / name / MANIFEST).is_file()


def prepared_datasets(data_dir: Path) -> list[str]:
    if not data_dir.is_dir():
        return []
    return sorted(p.parent.name for p in data_dir.glob(f"*/{MANIFEST}"))


def load_dataset(name: str, data_dir: Path) -> Dataset:
    """Read a prepared dataset; say how to prepare it when it is not there."""
    directory = data_dir / name
    if not is_prepared(data_dir, name):
        from pagegen.data.sources import DATASETS  # sources imports the parsers; only needed for this hint

        command = f"pagegen data fetch --dataset {name}" if name in DATASETS else f"pagegen data synth --name {name}"
        raise DatasetNotPreparedError(name, str(data_dir), command)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        # Only the tables this manifest wrote: a stale file from an earlier source is never attached.
        tables = {table: pl.read_parquet(directory / f"{table}.parquet") for table in manifest["counts"]}
    except (OSError, ValueError, KeyError, pl.exceptions.PolarsError) as error:
        raise DataSourceError(
            f"dataset {name!r} in {directory} is damaged ({type(error).__name__}: {error}); prepare it again"
        ) from error
    descriptions = directory / DESCRIPTIONS
    if descriptions.is_file():  # written by `pagegen llm describe`; the content generator reads them
        try:
            described = pl.read_parquet(descriptions).select(S.ITEM_ID, "description")
            tables["items"] = tables["items"].join(described, on=S.ITEM_ID, how="left")
        except (OSError, pl.exceptions.PolarsError):
            pass  # damaged descriptions only cost the content model its extra text
    return Dataset(name=name, manifest=manifest, **tables)


DESCRIPTIONS = "descriptions.parquet"  # item descriptions written by the language model


def dataset_version(data_dir: Path, name: str) -> str:
    """The prepared dataset's fingerprint (cheap: reads only the manifest), "" when not prepared.

    Caches key on it, so a dataset prepared again is not served stale."""
    try:
        return str(json.loads((data_dir / name / MANIFEST).read_text()).get("fingerprint", ""))
    except (OSError, ValueError):
        return ""


def check_dataset_name(name: str) -> str:
    """A dataset name is a folder name under the data directory: plain characters only."""
    if not DATASET_NAME.fullmatch(name) or name.startswith("_"):
        raise DataDirError(f"dataset name {name!r} must be letters, digits, '.', '_' or '-', not starting with '_' or '.'")
    return name
