"""The dashboard's process-wide caches: one page service per dataset version, the title backends, the
request readers and the background titler, and pages by their inputs. Only inputs → outputs are cached,
so sessions share work but never settings."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from pagegen import data
from pagegen.app.titling import BackgroundTitler
from pagegen.batch.export import MANIFEST, PAGES
from pagegen.batch.summary import ExportSummary, find_exports, summarize_export
from pagegen.layout import Layout
from pagegen.llm.backends import Backend
from pagegen.llm.registry import make_backend, request_reader
from pagegen.serving import AskedPage, PageService, training_plan
from pagegen.vocabulary import DEFAULT_BACKEND, DEFAULT_OPTIMIZER


@dataclass(frozen=True)
class PageRequest:
    """Everything a page depends on besides the dataset and layout: the page cache's key."""

    user_id: int | None  # None: a new user, described by ``liked`` and ``genres``
    settings: tuple[tuple[str, Any], ...] = ()
    optimizer: str = DEFAULT_OPTIMIZER
    liked: tuple[int, ...] = ()
    genres: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()  # rows asked for on top, newest first
    reader: str = DEFAULT_BACKEND  # the backend choice that reads ``asks`` (Home sets it with them)

    def with_settings(self, **values: Any) -> PageRequest:
        """The same request with some settings overridden (the compare view, the trade-off sweep)."""
        return dataclasses.replace(self, settings=tuple(sorted({**dict(self.settings), **values}.items())))


@st.cache_resource(show_spinner="Loading the dataset and its models (once per process)…", max_entries=2)
def page_service(dataset: str, data_dir: str, version: str) -> PageService:
    """One service per dataset version (``version`` changes when the dataset is prepared again); the
    terminal running the app shows training's bars."""
    return PageService(dataset, Path(data_dir), progress=sys.stderr.isatty())


_PLANNED: set[tuple[str, str, str]] = set()  # services whose training plan this process has shown


def service_for(dataset: str, data_dir: str, where: Any) -> PageService:
    """The page service; when its models must be trained first (a fresh clone's first start: minutes),
    a status box in ``where`` says what is trained and why instead of a silent wait. The plan is read
    once per process and dataset version (it costs a quarter second), never on a slider move."""
    key = (dataset, data_dir, data.store.dataset_version(Path(data_dir), dataset))
    if key not in _PLANNED:
        plan = training_plan(dataset, Path(data_dir))
        if plan:
            label = f"Training {len(plan)} model(s) once; they load in seconds afterwards"
            with where.status(label, expanded=True) as box:
                for line in plan:
                    box.write(line)
                page_service(*key)
                box.update(label="Models trained and saved", state="complete", expanded=False)
        _PLANNED.add(key)
    return page_service(*key)


@st.cache_resource(show_spinner=False, max_entries=4)
def title_backend(choice: str, data_dir: str) -> Backend:
    """The title backend (the background titler loads its model before its first page)."""
    return make_backend(choice, data_dir=Path(data_dir))


@st.cache_resource(show_spinner=False, max_entries=4)
def request_backend(choice: str, data_dir: str) -> Backend:
    """The backend that reads requests (``auto``: Ollama when a server answers, else the rules)."""
    return request_reader(choice, data_dir=Path(data_dir))


@st.cache_resource(show_spinner=False)
def background_titler() -> BackgroundTitler:
    """The process's one titler: every session's pages are titled by its one worker."""
    return BackgroundTitler()


@st.cache_resource(show_spinner=False, max_entries=512)
def cached_page(dataset: str, data_dir: str, layout: Layout, request: PageRequest) -> AskedPage:
    """A page by its inputs, with a row for each of its asks on top (none without asks: ``asked`` is then
    empty); moving a slider back to a value seen before answers from here."""
    service = page_service(dataset, data_dir, data.store.dataset_version(Path(data_dir), dataset))
    # No baselines compared: the dashboard shows none, and the page is the same without them.
    arguments = dict(optimizer=request.optimizer, liked=request.liked, genres=request.genres, compare=False)
    if not request.asks:
        return AskedPage(service.page(request.user_id, layout, dict(request.settings), **arguments), ())
    reader = request_backend(request.reader, data_dir)
    return service.ask(request.asks, request.user_id, layout, dict(request.settings), reader=reader, **arguments)


def newest_export_summary(dataset: str, data_dir: str) -> ExportSummary | None:
    """The newest export of ``dataset`` summed up, or None when there is none; read again only when the
    export changed (its manifest rewritten, or another partition written)."""
    found = find_exports(Path(data_dir), dataset)
    if not found:
        return None
    written = ((found[0] / MANIFEST).stat().st_mtime_ns, len(list((found[0] / PAGES).glob("part-*.parquet"))))
    return _export_summary(str(found[0]), written)


@st.cache_resource(show_spinner="Summing up the export…", max_entries=8)
def _export_summary(path: str, written: tuple[int, int]) -> ExportSummary:
    return summarize_export(Path(path))
