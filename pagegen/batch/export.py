"""Every user's page, precomputed into partitioned Parquet: what a homepage service serves from storage.

An export folder holds ``manifest.json`` (what the pages were built from: the dataset's fingerprint,
each model's manifest, the layout and settings, the optimizer, the title backend, the users and how
they are partitioned, the code's version and a digest of its source) and ``pages/part-NNNNN.parquet``,
one file per batch of users, one row per user. Workers build a batch's pages and return its Parquet
bytes; this process writes each partition atomically (a temporary file renamed into place), so a
partition is there whole or not at all. Rerun with the same inputs, an export writes only the missing
partitions: a killed export finishes without losing or repeating a user. An export of other inputs in
the same folder is refused unless ``force`` (then its pages are replaced).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

import pagegen
from pagegen.batch.engines import (
    EngineChoice,
    EngineTimings,
    ServiceSpec,
    batch_size,
    open_engine,
    split_batches,
)
from pagegen.errors import ConfigError, PagegenError, UnknownUserError
from pagegen.files import SOURCE_ROOT, atomic_path
from pagegen.layout import Layout
from pagegen.progress import announce

if TYPE_CHECKING:
    from pagegen.serving import PageService

EXPORT_FORMAT = 2  # the manifest's and the partitions' layout; a change refuses to resume older exports
MANIFEST = "manifest.json"
PAGES = "pages"
EXPORTS = "exports"  # under a dataset's folder: where exports go by default, and where Insights looks

ITEM = pl.Struct(
    {
        "item_id": pl.Int64,
        "score": pl.Float64,
        "relevance": pl.Float64,
        "popularity": pl.Float64,
        "popularity_bias": pl.Float64,
        "attention": pl.Float64,
        "is_new": pl.Boolean,
        "why": pl.String,
        "probability": pl.Float64,
    }
)
ROW = pl.Struct(
    {
        "tile": pl.Int32,
        "kind": pl.String,
        "slots": pl.Int32,
        "row_id": pl.String,
        "row_type": pl.String,
        "source": pl.String,
        "anchor_item": pl.Int64,
        "genres": pl.List(pl.String),
        "title": pl.String,
        "title_source": pl.String,
        "title_note": pl.String,
        "order_note": pl.String,
        "attention": pl.Float64,
        "items": pl.List(ITEM),
    }
)
RELAXATION = pl.Struct({"constraint": pl.String, "asked": pl.Float64, "got": pl.Float64, "note": pl.String})
BASELINE = pl.Struct({"optimizer": pl.String, "objective": pl.Float64, "shortfall": pl.Float64})
SOLVER = pl.Struct(
    {
        "optimizer": pl.String,
        "status": pl.String,
        "objective": pl.Float64,
        "best_bound": pl.Float64,
        "gap": pl.Float64,
        "message": pl.String,
        "relaxations": pl.List(RELAXATION),
        "baselines": pl.List(BASELINE),
    }
)
PAGE_SCHEMA = pl.Schema(
    {
        "user_id": pl.Int64,
        "held_out_item": pl.Int64,  # what the user watched next (the page metrics look for it)
        "hit": pl.Boolean,
        "carousel_ndcg": pl.Float64,
        "expected_good_picks": pl.Float64,
        "attention_relevance": pl.Float64,
        "intra_row_diversity": pl.Float64,
        "genres_covered": pl.Int32,
        "novelty": pl.Float64,
        "duplicates": pl.Int32,
        "items": pl.Int32,
        "rows": pl.List(ROW),
        "solver": SOLVER,
    }
)  # one row per user; item titles and genres are the catalogue's (join on item_id)


class ExportMismatchError(PagegenError):
    """The output folder holds something other than an export of these inputs."""


@dataclass(frozen=True)
class PageSettings:
    """How every page of an export is built: the layout (its constraints with the settings applied), the
    optimizer and its node limit, and the title backend within its per-page budget."""

    layout: Layout
    optimizer: str
    node_limit: int
    backend: str
    title_budget: float


@dataclass(frozen=True)
class ExportReport:
    out: str
    dataset: str
    engine: str
    workers: int
    users: int
    partitions: int
    written: int  # partitions this run wrote
    already_there: int  # partitions a previous run had written (resumed)
    seconds: float  # wall time of this run's pages, the engine's start-up included
    pages_seconds: float  # of which building and writing pages, once every worker was ready
    pages_per_second: float  # pages this run wrote / seconds
    start: EngineTimings
    worker_peak_bytes: dict[str, int]  # worker pid → peak resident memory

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def select_users(service: PageService, users: str) -> list[int]:
    """``all``, the first N users, or a text file of user ids (one per line, ``#`` comments), in the
    file's order with repeats dropped; an unknown id raises before anything is written."""
    known = [int(u) for u in service.user_ids()]
    if users == "all":
        return known
    if users.isdigit():
        if int(users) < 1:
            raise ConfigError(f"--users N must be at least 1, got {users}")
        return known[: int(users)]
    path = Path(users)
    if not path.is_file():
        raise ConfigError(f"--users takes all, a number or a file of user ids; {users!r} is none of these")
    wanted: list[int] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not text.lstrip("-").isdigit():
            raise ConfigError(f"{path}:{number}: expected a user id, got {text[:40]!r}")
        wanted.append(int(text))
    if not wanted:
        raise ConfigError(f"{path} holds no user ids")
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise UnknownUserError(unknown[0], service.name)
    return list(dict.fromkeys(wanted))


def export_manifest(service: PageService, settings: PageSettings, user_ids: Sequence[int], batch_users: int) -> dict:
    """What the export's pages are built from: an export whose manifest differs is of other inputs."""
    from pagegen.generators.artifacts import read_manifest

    train = service.experiment.train
    return {
        "format": EXPORT_FORMAT,
        "dataset": service.name,
        "dataset_fingerprint": service.dataset.fingerprint,
        "catalogue_items": int(service.experiment.serving.n_items),
        "models": {name: read_manifest(service.data_dir, train, name) for name in sorted(service.generators)},
        "layout": json.loads(json.dumps(dataclasses.asdict(settings.layout), default=str)),
        "optimizer": settings.optimizer,
        "node_limit": settings.node_limit,
        "backend": settings.backend,
        "title_budget": settings.title_budget,
        "users": {"count": len(user_ids), "digest": _digest(",".join(map(str, user_ids)))},
        "batch_users": batch_users,
        "partitions": -(-len(user_ids) // batch_users),
        "code": {"pagegen": pagegen.__version__, "source_digest": source_digest()},
    }


def source_digest() -> str:
    """A digest of the package's source: pages from changed code are not mixed into an older export."""
    digest = hashlib.sha256()
    package = SOURCE_ROOT / "pagegen"
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def partition_path(out: Path, index: int) -> Path:
    return out / PAGES / f"part-{index:05d}.parquet"


def export_pages(
    service: PageService,
    settings: PageSettings,
    user_ids: Sequence[int],
    out: Path,
    *,
    engine: EngineChoice,
    batch_users: int | None = None,
    force: bool = False,
    progress: bool = False,
) -> ExportReport:
    """Write the pages of ``user_ids`` to ``out`` on ``engine`` (see the module's docstring); the
    ``service``'s models must be saved, since the workers load them. The engine starts before anything
    is written: an engine that cannot start leaves ``out`` as it was."""
    from tqdm import tqdm

    batch_users = batch_users or batch_size(len(user_ids))
    if batch_users < 1:
        raise ConfigError(f"a batch needs at least one user, got {batch_users}")
    if not user_ids:
        raise ConfigError("no users to export")
    manifest = export_manifest(service, settings, user_ids, batch_users)
    _check_out(out, manifest, force=force)  # refuses before any worker starts
    batches = split_batches(user_ids, batch_users)
    missing = [index for index in range(len(batches)) if not partition_path(out, index).is_file()]
    already = len(batches) - len(missing)
    announce(
        f"exporting {len(user_ids)} pages of {service.name} ({settings.layout.name}) in {len(batches)} partitions "
        f"of {batch_users} users on {engine.name} with "
        + (f"{engine.workers} workers" if engine.workers else "a worker per core")
        + (f"; {already} partitions are there already, resuming" if already else ""),
        progress,
    )
    spec = ServiceSpec(service.name, service.data_dir, tuple(service.generators))
    started = time.perf_counter()
    peaks: dict[str, int] = {}
    written = 0
    with open_engine(engine, spec, service) as running:
        ready = time.perf_counter()
        _write_manifest(out, manifest, complete=False)
        for stale in (out / PAGES).glob(".part-*.tmp"):  # a partition a killed run was writing
            stale.unlink()
        todo = [batches[index] for index in missing]
        done_users = len(user_ids) - sum(len(batch) for batch in todo)
        with tqdm(total=len(user_ids), initial=done_users, unit="page", desc="export", disable=not progress) as bar:
            for result in running.map_batches(_export_batch, settings, todo):
                index = missing[result.index]
                with atomic_path(partition_path(out, index)) as temp:
                    temp.write_bytes(result.value)
                written += 1
                peaks[str(result.worker_pid)] = max(peaks.get(str(result.worker_pid), 0), result.worker_peak_bytes)
                bar.update(len(batches[index]))
        finished = time.perf_counter()  # the engine's shut-down is not counted
        timings, workers = running.timings, running.workers
    seconds, pages_seconds = finished - started, finished - ready
    _write_manifest(out, manifest, complete=True)
    pages = sum(len(batches[index]) for index in missing)
    return ExportReport(
        out=str(out),
        dataset=service.name,
        engine=engine.name,
        workers=workers,
        users=len(user_ids),
        partitions=len(batches),
        written=written,
        already_there=already,
        seconds=round(seconds, 3),
        pages_seconds=round(pages_seconds, 3),
        pages_per_second=round(pages / seconds, 2) if seconds > 0 else 0.0,
        start=timings,
        worker_peak_bytes=peaks,
    )


def format_export(report: ExportReport) -> str:
    """The report as text: what was written where, how fast, and what starting the engine cost."""
    start = report.start
    peak = max(report.worker_peak_bytes.values(), default=0)
    lines = [
        f"{report.dataset}: {report.users} pages in {report.partitions} partitions at {report.out}",
        f"wrote {report.written} partitions"
        + (f" ({report.already_there} were there already)" if report.already_there else "")
        + f" in {report.seconds:.1f} s on {report.engine} with {report.workers} workers: "
        f"{report.pages_per_second:.1f} pages/s, peak memory per worker {peak / 2**20:.0f} MiB",
    ]
    if report.engine == "ray":
        lines.append(
            f"ray start-up {start.start_seconds:.1f} s, object store put {start.put_bytes / 2**20:.0f} MiB "
            f"in {start.put_seconds:.2f} s, workers loaded in {start.load_seconds:.1f} s"
        )
    else:
        lines.append(f"workers loaded in {start.load_seconds:.1f} s")
    return "\n".join(lines)


def _check_out(out: Path, manifest: dict, *, force: bool) -> None:
    """Refuse a folder holding anything but an export of the same inputs (``force``: replace an export of
    other inputs; a folder that is not an export is never emptied)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportMismatchError(f"--out {out} is a file, not a folder")
    found = out / MANIFEST
    if not found.is_file():
        if any(out.iterdir()):
            raise ExportMismatchError(f"--out {out} is not empty and holds no pagegen export; choose a new folder")
        return
    try:
        saved = json.loads(found.read_text(encoding="utf-8"))
        differs = sorted(
            k for k in manifest.keys() | saved.keys() if k != "complete" and saved.get(k) != manifest.get(k)
        )
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        differs = ["manifest (unreadable)"]
    if not differs:
        return
    if not force:
        raise ExportMismatchError(
            f"--out {out} holds an export of other inputs (they differ in: {', '.join(differs)}); "
            "give another --out, or --force to replace it"
        )
    shutil.rmtree(out / PAGES, ignore_errors=True)
    found.unlink()


def _write_manifest(out: Path, manifest: dict, *, complete: bool) -> None:
    with atomic_path(out / MANIFEST) as temp:
        temp.write_text(json.dumps({**manifest, "complete": complete}, indent=2, sort_keys=True) + "\n")


def read_manifest(out: Path) -> dict[str, Any] | None:
    """An export folder's manifest, or None when the folder holds no (readable) export."""
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


_title_backends: dict[tuple[str, str], Any] = {}  # in a worker: one title backend per (choice, data folder)


def _title_backend(service: PageService, name: str) -> Any:
    from pagegen.llm.registry import make_backend

    key = (name, str(service.data_dir))
    if key not in _title_backends:
        backend = make_backend(name, data_dir=service.data_dir)
        with contextlib.suppress(PagegenError):  # titling falls back to templates and says so on each row
            backend.warm()  # a model's one-time load is not part of a page's title budget
        _title_backends[key] = backend
    return _title_backends[key]


def _export_batch(service: PageService, settings: PageSettings, user_ids: list[int]) -> bytes:
    """A batch's pages as one Parquet file's bytes (the worker builds them; the driver only writes)."""
    records = [page_record(service, settings, user_id) for user_id in user_ids]
    buffer = io.BytesIO()
    pl.from_dicts(records, schema=PAGE_SCHEMA).write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def page_record(service: PageService, settings: PageSettings, user_id: int) -> dict[str, Any]:
    """One user's exported page: built, titled and measured as ``pagegen page`` does it, as plain data in
    ``PAGE_SCHEMA``'s shape (no clock readings, so the same inputs give the same bytes)."""
    from pagegen.metrics import page_metrics
    from pagegen.optimizer import optimize

    problem = service.problem(user_id, settings.layout)
    page = optimize(problem, settings.optimizer, node_limit=settings.node_limit)
    page, _ = service.title(page, _title_backend(service, settings.backend), budget=settings.title_budget)
    held_out = service.experiment.held_out_item(user_id)
    metrics = page_metrics(page, held_out=held_out, item_share=service.item_share)
    report = page.report
    return {
        "user_id": user_id,
        "held_out_item": held_out,
        **dataclasses.asdict(metrics),
        "rows": [
            {
                "tile": row.tile,
                "kind": row.kind,
                "slots": row.slots,
                "row_id": row.row_id,
                "row_type": row.reason.row_type,
                "source": row.reason.source,
                "anchor_item": row.reason.anchor_item,
                "genres": list(row.reason.genres),
                "title": row.title,
                "title_source": row.title_source,
                "title_note": row.title_note,
                "order_note": row.order_note,
                "attention": row.attention,
                "items": [
                    {
                        "item_id": item.item_id,
                        "score": item.score,
                        "relevance": item.relevance,
                        "popularity": item.popularity,
                        "popularity_bias": item.popularity_bias,
                        "attention": item.attention,
                        "is_new": item.is_new,
                        "why": item.why,
                        "probability": item.probability,
                    }
                    for item in row.items
                ],
            }
            for row in page.rows
        ],
        "solver": {
            "optimizer": report.optimizer,
            "status": report.status,
            "objective": report.objective,
            "best_bound": report.best_bound,
            "gap": report.gap,
            "message": report.message,
            "relaxations": [
                {"constraint": r.constraint, "asked": float(r.asked), "got": float(r.got), "note": r.note}
                for r in report.relaxations
            ],
            "baselines": [{"optimizer": name, **figures} for name, figures in sorted(report.baselines.items())],
        },
    }


def read_pages(out: Path) -> pl.LazyFrame:
    """An export's pages, lazily (every partition written so far)."""
    if not (out / PAGES).is_dir():
        raise ConfigError(f"{out} holds no exported pages")
    return pl.scan_parquet(out / PAGES / "part-*.parquet", schema=PAGE_SCHEMA)
