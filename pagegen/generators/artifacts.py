"""Saved generators: arrays in ``.npz`` (never pickle) plus a JSON manifest.

Files: ``data/<dataset>/models/<model>.<split>.{npz,json}``. The manifest records the dataset
fingerprint, split, parameters, metrics and library versions, and the sha256 of the arrays; an
artifact is loaded only when all of these match what is asked for. Both files are written to
temporary names and renamed, arrays first, so a failed save leaves the last good artifact.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import zipfile
from contextlib import ExitStack
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import pagegen
from pagegen.errors import ArtifactError
from pagegen.files import atomic_path, file_sha256
from pagegen.generators.base import Generator, Validation
from pagegen.generators.training import TrainingData
from pagegen.progress import announce

MODELS = "models"


def artifact_paths(data_dir: Path, data: TrainingData, model: str) -> tuple[Path, Path]:
    stem = data_dir / data.dataset / MODELS / f"{model}.{data.split}"
    return stem.with_suffix(stem.suffix + ".npz"), stem.with_suffix(stem.suffix + ".json")


def save(generator: Generator, data_dir: Path, *, metrics: dict[str, Any] | None = None) -> Path:
    data = generator.data
    arrays_path, manifest_path = artifact_paths(data_dir, data, generator.name)
    with ExitStack() as renames:  # exits in reverse: arrays renamed into place, then the manifest
        manifest_temp = renames.enter_context(atomic_path(manifest_path))
        arrays_temp = renames.enter_context(atomic_path(arrays_path))
        with arrays_temp.open("wb") as handle:
            np.savez(handle, **generator.state())
        manifest = {
            "model": generator.name,
            "params": generator.params,
            "dataset": data.dataset,
            "fingerprint": data.fingerprint,
            "split": data.split,
            "n_items": data.n_items,
            "text_digest": data.text_digest if generator.uses_item_text else None,
            "arrays_sha256": file_sha256(arrays_temp),
            "metrics": metrics or {},
            "versions": _versions(),
            "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        manifest_temp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=float) + "\n")
    return arrays_path


def read_manifest(data_dir: Path, data: TrainingData, model: str) -> dict[str, Any] | None:
    _, manifest_path = artifact_paths(data_dir, data, model)
    if not manifest_path.is_file():
        return None
    try:
        return json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtifactError(
            f"{manifest_path} is corrupted ({error}); retrain with `pagegen train --model {model}`"
        ) from error


def mismatch(
    manifest: dict[str, Any],
    data: TrainingData,
    params: dict[str, Any] | None,
    runtime: frozenset[str] = frozenset(),
    *,
    uses_item_text: bool = False,
) -> str | None:
    """Why the saved artifact does not fit ``data`` (and ``params``, runtime settings aside), or None."""
    checks = [
        ("dataset", manifest.get("dataset"), data.dataset),
        ("dataset fingerprint", manifest.get("fingerprint"), data.fingerprint),
        ("split", manifest.get("split"), data.split),
        ("catalogue size", manifest.get("n_items"), data.n_items),
    ]
    if uses_item_text:  # titles and descriptions are what a text model learned from
        checks.append(("catalogue text", manifest.get("text_digest"), data.text_digest))
    if params is not None:
        saved = {k: v for k, v in (manifest.get("params") or {}).items() if k not in runtime}
        wanted = {k: v for k, v in json.loads(json.dumps(params, default=float)).items() if k not in runtime}
        checks.append(("parameters", saved, wanted))
    for what, saved, wanted in checks:
        if saved is None and wanted is not None:
            return f"it was saved by an older pagegen, whose manifest has no {what}"
        if saved != wanted:
            if isinstance(saved, dict) and isinstance(wanted, dict):  # name only the parameters that differ
                keys = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
                saved, wanted = {k: saved.get(k) for k in keys}, {k: wanted.get(k) for k in keys}
            return f"it was trained with {what} {saved!r}, not {wanted!r}"
    return None


def load(
    generator_class: type[Generator], data_dir: Path, data: TrainingData, *, params: dict[str, Any] | None = None
) -> Generator:
    """The saved generator for ``data``; raises ArtifactError when absent, stale or corrupted."""
    name = generator_class.name
    arrays_path, manifest_path = artifact_paths(data_dir, data, name)
    manifest = read_manifest(data_dir, data, name)
    if manifest is None or not arrays_path.is_file():
        raise ArtifactError(
            f"no saved {name} model for {data.dataset} ({data.split}); run `pagegen train --dataset {data.dataset} --model {name}`"
        )
    reason = mismatch(
        manifest, data, params, generator_class.runtime_params, uses_item_text=generator_class.uses_item_text
    )
    if reason:
        raise ArtifactError(f"the saved {name} model at {manifest_path} does not match: {reason}; retrain it")
    if file_sha256(arrays_path) != manifest.get("arrays_sha256"):
        raise ArtifactError(
            f"{arrays_path} is corrupted (checksum differs from its manifest); retrain with `pagegen train --model {name}`"
        )
    try:
        with np.load(arrays_path, allow_pickle=False) as arrays:
            state = {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ArtifactError(
            f"{arrays_path} is corrupted ({error}); retrain with `pagegen train --model {name}`"
        ) from error
    try:
        return generator_class.restore(manifest["params"], state, data)
    except (KeyError, RuntimeError, ValueError) as error:  # saved by another version of the code
        raise ArtifactError(
            f"{arrays_path} does not fit this version of {name} ({error}); retrain with `pagegen train --model {name}`"
        ) from error


def _versions() -> dict[str, str]:
    versions = {"pagegen": pagegen.__version__}
    for package in ("numpy", "scipy", "polars", "torch"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def load_or_train(
    generator_class: type[Generator],
    data_dir: Path,
    data: TrainingData,
    *,
    validation: Validation | None,
    params: dict[str, Any] | None = None,
    retrain: bool = False,
    progress: bool = False,
) -> tuple[Generator, dict[str, Any]]:
    """The saved generator when its manifest matches ``data`` (and ``params``, when given); otherwise
    train and save one, saying first (with ``progress``) what is trained and why. Without ``params``
    whatever model was saved for this data is used, so a model tuned with ``train --set`` is not
    replaced by defaults. A corrupted artifact is an error, not a silent retrain: ``retrain=True``
    replaces it.
    """
    manifest, reason = _plan(generator_class, data_dir, data, params=params, retrain=retrain)
    if reason is None and manifest is not None:
        wanted = generator_class(**params).params if params else None
        return load(generator_class, data_dir, data, params=wanted), manifest
    announce(_training_line(generator_class.name, data, reason), progress)
    generator = generator_class(**(params or {}))
    seconds = fit_seconds(generator, data, validation, progress=progress)
    if generator.fit_note:
        announce(f"{generator.name} on {data.dataset}: {generator.fit_note}", progress)
    save(generator, data_dir, metrics={"fit_seconds": round(seconds, 3), **training_summary(generator)})
    manifest = read_manifest(data_dir, data, generator.name)
    assert manifest is not None
    return generator, manifest


def training_notice(
    generator_class: type[Generator],
    data_dir: Path,
    data: TrainingData,
    *,
    params: dict[str, Any] | None = None,
    retrain: bool = False,
) -> str | None:
    """``load_or_train``'s plan: None when it will load the saved model, else the line it says before
    training, e.g. "training sasrec on ml-100k (leave-last-out): no saved sasrec for this split"."""
    _, reason = _plan(generator_class, data_dir, data, params=params, retrain=retrain)
    return None if reason is None else _training_line(generator_class.name, data, reason)


def _plan(
    generator_class: type[Generator],
    data_dir: Path,
    data: TrainingData,
    *,
    params: dict[str, Any] | None,
    retrain: bool,
) -> tuple[dict[str, Any] | None, str | None]:
    """The saved manifest (None when there is none) and why the model must be trained (None: load it)."""
    name = generator_class.name
    wanted = generator_class(**params).params if params else None
    try:
        manifest = read_manifest(data_dir, data, name)
    except ArtifactError:  # a corrupted manifest is an error unless it is to be replaced anyway
        if retrain:
            return None, f"the saved {name} is corrupted; replacing it, as asked"
        raise
    if manifest is None:
        return None, f"no saved {name} for this split"
    stale = mismatch(
        manifest, data, wanted, generator_class.runtime_params, uses_item_text=generator_class.uses_item_text
    )
    if stale:
        return manifest, f"the saved {name} does not fit: {stale}"
    if retrain:
        return manifest, f"asked to retrain (the saved {name} still fits this data)"
    return manifest, None


def _training_line(name: str, data: TrainingData, reason: str) -> str:
    return f"training {name} on {data.dataset} ({data.split}): {reason}"


def fit_seconds(
    generator: Generator, data: TrainingData, validation: Validation | None, *, progress: bool = False
) -> float:
    started = time.perf_counter()
    generator.fit(data, validation=validation if generator.uses_validation else None, progress=progress)
    return time.perf_counter() - started


def training_summary(generator: Generator) -> dict[str, Any]:
    """What fitting chose or reached, for the manifest: λ, epochs, best validation NDCG, a fit's note."""
    summary = {}
    for attribute in ("l2", "epochs_run", "best_validation_ndcg", "fit_note"):
        if getattr(generator, attribute, None) is not None:
            summary[attribute] = getattr(generator, attribute)
    return summary
