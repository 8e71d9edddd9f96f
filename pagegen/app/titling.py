"""Titles off the dashboard's critical path: a page is drawn with the titles already cached, and one
worker thread per process writes the rest into the shared title cache while the visitor looks at it.

One thread, because the embedded model must never run twice at once (and two generations sharing two
cores would both miss their budget). A page is queued once: asked for again while it waits or is being
titled, the same job answers. Each session's newest page goes first, the sessions in the order they
asked, so a visitor dragging a slider waits behind none of the pages dragged past. Those stale pages
are not dropped (up to ``MAX_STALE``): they are titled, newest first, when no session waits for its
page, so their titles are cached should the visitor come back. Nothing here imports Streamlit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, MutableMapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pagegen.errors import PagegenError
from pagegen.llm.backends import Backend
from pagegen.llm.titles import TitleReport
from pagegen.optimizer import Page

Titles = tuple[Page, TitleReport]
MAX_STALE = 16  # pages no session waits for any more, kept queued; beyond it the oldest are dropped
POLL_SECONDS = 0.5  # how often a page waiting for its titles looks for them
# A page's titles in the background: the page is on screen already, so the budget only stops a model that
# hangs; the 2 s a page waits elsewhere left 5 of 8 rows of a default page with their templates.
BACKGROUND_BUDGET = 30.0
JOB_KEY = "pagegen.titles.job"  # in a session's state: the key and future titles of the page it shows
SESSION_KEY = "pagegen.titles.session"  # in a session's state: the token that names it to the titler


@dataclass(frozen=True, eq=False)
class TitleJob:
    """A page to title with ``backend``; ``title`` is a page service's (its cache, catalogue and budget,
    and ``generate=False`` for the titles already cached)."""

    page: Page
    backend: Backend
    title: Callable[..., Titles]

    @property
    def key(self) -> Hashable:
        """The same rows titled the same way are one job, whoever asks."""
        return (self.title, self.backend.model_name, self.page.rows)


class BackgroundTitler:
    """One worker thread, started with the first job, titling queued pages one at a time."""

    def __init__(self, *, max_stale: int = MAX_STALE) -> None:
        self.max_stale = max_stale
        self._waiting: dict[Hashable, tuple[TitleJob, Future[Titles]]] = {}  # oldest first
        self._running: tuple[Hashable, Future[Titles]] | None = None
        self._newest: dict[Hashable, Hashable] = {}  # session → key of its newest page, earliest asker first
        self._warmed: set[str] = set()  # models the worker has loaded
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, job: TitleJob, *, session: Hashable) -> Future[Titles]:
        """The titled page and its report, to come: ``job``'s page becomes ``session``'s newest, queued
        unless it already waits or is being titled (then that job's future is the answer)."""
        key = job.key
        with self._changed:
            self._newest.pop(session, None)
            self._newest[session] = key
            if self._running is not None and self._running[0] == key:
                return self._running[1]
            if key not in self._waiting:
                self._waiting[key] = (job, Future())
                self._drop_stale()
                self._changed.notify()
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="pagegen-titler", daemon=True)
                self._worker.start()
            return self._waiting[key][1]

    def _drop_stale(self) -> None:
        """Cancel the oldest pages no session waits for beyond ``max_stale`` (called holding the lock)."""
        newest = set(self._newest.values())
        stale = [key for key in self._waiting if key not in newest]
        for key in stale[: max(len(stale) - self.max_stale, 0)]:
            self._waiting.pop(key)[1].cancel()

    def _next(self) -> tuple[Hashable, TitleJob, Future[Titles]]:
        """The page of the session that asked earliest for its newest page, else the newest stale page
        (called holding the lock, with pages waiting)."""
        key = next((key for key in self._newest.values() if key in self._waiting), None)
        if key is None:
            key = next(reversed(self._waiting))
        self._newest = {session: k for session, k in self._newest.items() if k != key and k in self._waiting}
        job, future = self._waiting.pop(key)
        return key, job, future

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._waiting:
                    self._changed.wait()
                key, job, future = self._next()
                self._running = (key, future)
            if future.set_running_or_notify_cancel():  # False: whoever holds the future cancelled it
                try:
                    self._warm(job.backend)
                    future.set_result(job.title(job.page, job.backend, budget=BACKGROUND_BUDGET, remember_misses=False))
                except Exception as error:  # one page's failure is that page's, never the worker's
                    future.set_exception(error)
            with self._changed:
                self._running = None

    def _warm(self, backend: Backend) -> None:
        """Load the model the first time a job needs it: loading is the worker's wait, not a page's budget."""
        if backend.model_name in self._warmed:
            return
        self._warmed.add(backend.model_name)
        with contextlib.suppress(PagegenError):  # titling then falls back and says why
            backend.warm()


@dataclass(frozen=True)
class PageTitles:
    """A page's titles as the dashboard shows them now, and the job whose titles are still to come."""

    page: Page
    report: TitleReport
    job: Future[Titles] | None = None  # None: what is shown is final
    error: str = ""  # the job failed: why (its rows keep their templates)


def titles_now(job: TitleJob, titler: BackgroundTitler, session: MutableMapping[str, Any]) -> PageTitles:
    """The titles of ``job``'s page for this session now: the job's own once it has run, else the cached
    ones with the rest pending and the job submitted (once per session and page; ``session`` is the
    session's state, which holds its job)."""
    key = job.key
    held = session.get(JOB_KEY)
    future = held[1] if held is not None and held[0] == key and not held[1].cancelled() else None
    failed = None
    if future is not None and future.done():
        failed = future.exception()
        if failed is None:
            return PageTitles(*future.result())
    titled, report = job.title(job.page, job.backend, generate=False)
    if not report.pending:
        return PageTitles(titled, report)
    if failed is not None:  # not submitted again: a page that fails would fail on every look
        return PageTitles(titled, report, error=" ".join(str(failed).split()))
    if future is None:
        future = titler.submit(job, session=session.setdefault(SESSION_KEY, object()))
        session[JOB_KEY] = (key, future)
    return PageTitles(titled, report, future)
