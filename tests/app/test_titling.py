"""The background titler: one page at a time, each once, each session's newest first; a failing page
never stops it; and the dashboard's view of a page's titles, first from the cache, then the job's.

The title functions here hold their page until the test lets it go (an Event), so the queue's order is
decided while the worker is busy: no sleeps, no timing."""

from __future__ import annotations

import dataclasses
import functools
import threading

import pytest

from pagegen.app.titling import JOB_KEY, BackgroundTitler, TitleJob, titles_now
from pagegen.llm import titles
from pagegen.llm.backends import TemplateBackend
from pagegen.llm.titles import TitleCache, TitleReport, title_page
from tests.factories import CATALOGUE, make_page

WAIT = 30  # seconds a test waits for the worker before it fails (never reached when all is well)


class Backend:
    """A generating backend that counts its warm-ups; ``answers`` wait for ``release``."""

    name = model_name = "gated"
    generates = True

    def __init__(self, answers=("More Alien Encounters", "Feel-Good Comedy Picks")):
        self.answers, self.release = list(answers), threading.Event()
        self.warmed = self.calls = 0

    def warm(self):
        self.warmed += 1

    def generate(self, prompts, *, deadline, max_words):
        self.calls += 1
        assert self.release.wait(WAIT)
        return self.answers[: len(prompts)]


class Gate:
    """A title function that records which pages it titles and holds the first until ``release``."""

    def __init__(self, fail: int | None = None):
        self.order, self.fail = [], fail
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, page, backend, **_options):
        self.order.append(page.user_id)
        self.started.set()
        assert self.release.wait(WAIT)
        if page.user_id == self.fail:
            raise RuntimeError(f"page {page.user_id} broke\nbadly")
        return page, TitleReport(backend.name, 0.0, len(page.rows), 0, 0)


def _page(number: int):
    """A page of its own (its first row's id differs), told apart by its user id."""
    page = make_page()
    first = dataclasses.replace(page.rows[0], row_id=f"row-{number}")
    return dataclasses.replace(page, user_id=number, rows=(first, *page.rows[1:]))


def _job(gate, number: int, backend=None) -> TitleJob:
    return TitleJob(_page(number), backend or Backend(), gate)


def _busy(titler: BackgroundTitler, gate: Gate):
    """The titler with page 0 running (held by ``gate``), so what is submitted next waits."""
    first = titler.submit(_job(gate, 0), session="someone")
    assert gate.started.wait(WAIT)
    return first


def test_each_sessions_newest_page_goes_first_then_stale_pages_newest_first():
    titler, gate = BackgroundTitler(), Gate()
    futures = [_busy(titler, gate)]
    futures += [titler.submit(_job(gate, n), session="dragging") for n in (1, 2, 3)]  # 3 is its newest
    futures.append(titler.submit(_job(gate, 10), session="other"))
    gate.release.set()
    assert [future.result(WAIT)[0].user_id for future in futures] == [0, 1, 2, 3, 10]
    assert gate.order == [0, 3, 10, 2, 1]  # the newest of each session in the order they asked, then 2, 1


def test_a_page_waiting_or_running_is_not_queued_again():
    titler, gate = BackgroundTitler(), Gate()
    running = _busy(titler, gate)
    assert titler.submit(_job(gate, 0), session="another") is running
    waiting = titler.submit(_job(gate, 1), session="someone")
    assert titler.submit(_job(gate, 1), session="another") is waiting
    gate.release.set()
    waiting.result(WAIT)
    assert gate.order == [0, 1]


def test_pages_beyond_the_stale_limit_are_dropped_oldest_first():
    titler, gate = BackgroundTitler(max_stale=1), Gate()
    _busy(titler, gate)
    dropped, kept, newest = (titler.submit(_job(gate, n), session="dragging") for n in (1, 2, 3))
    assert dropped.cancelled() and not kept.cancelled()
    gate.release.set()
    kept.result(WAIT)
    assert newest.done() and gate.order == [0, 3, 2]


def test_a_failing_page_fails_alone_and_the_worker_goes_on():
    titler, gate = BackgroundTitler(), Gate(fail=1)
    gate.release.set()
    broken = titler.submit(_job(gate, 1), session="someone")
    with pytest.raises(RuntimeError, match="page 1 broke"):
        broken.result(WAIT)
    assert titler.submit(_job(gate, 2), session="someone").result(WAIT)[0].user_id == 2


def test_the_model_is_warmed_once_by_the_worker():
    titler, gate, backend = BackgroundTitler(), Gate(), Backend()
    gate.release.set()
    for number in (1, 2):
        titler.submit(_job(gate, number, backend), session="someone").result(WAIT)
    assert backend.warmed == 1


def test_a_page_shows_cached_titles_at_once_and_the_models_when_its_job_ran(tmp_path):
    backend, cache = Backend(), TitleCache(tmp_path / "titles.json")
    service_title = functools.partial(title_page, cache=cache, catalogue=CATALOGUE)
    titler, session = BackgroundTitler(), {}
    job = TitleJob(make_page(), backend, service_title)
    now = titles_now(job, titler, session)  # the model has not answered yet: templates, pending
    assert [(r.title, r.title_note) for r in now.page.rows] == [
        ("Because you watched Alien", titles.PENDING),
        ("Comedy for you", titles.PENDING),
    ]
    assert now.job is not None and now.report.pending == 2 and session[JOB_KEY][1] is now.job
    assert titles_now(job, titler, session).job is now.job  # looked at again: not submitted again
    backend.release.set()
    titled, report = now.job.result(WAIT)
    assert report.from_model == 2 and backend.calls == 1
    done = titles_now(job, titler, session)
    assert done.job is None and done.page == titled and done.report == report
    assert [r.title for r in done.page.rows] == ["More Alien Encounters", "Feel-Good Comedy Picks"]
    fresh = titles_now(job, titler, {})  # another session: from the cache the job filled
    assert fresh.job is None and [r.title_source for r in fresh.page.rows] == ["cache", "cache"]
    assert len(TitleCache(tmp_path / "titles.json").entries) == 2  # and saved


def test_a_backend_that_writes_no_titles_needs_no_job():
    class NoTitler:
        def submit(self, job, *, session):
            raise AssertionError("a template page was queued")

    now = titles_now(TitleJob(make_page(), TemplateBackend(), title_page), NoTitler(), {})
    assert now.job is None and now.report.pending == 0


def test_a_failed_job_is_said_once_and_not_submitted_again():
    titler, gate = BackgroundTitler(), Gate(fail=1)
    gate.release.set()
    session = {}
    job = TitleJob(_page(1), Backend(), _failing_or_cached(gate))
    first = titles_now(job, titler, session)
    with pytest.raises(RuntimeError):
        first.job.result(WAIT)
    again = titles_now(job, titler, session)
    assert again.job is None and again.error == "page 1 broke badly" and gate.order == [1]
    assert [r.title_note for r in again.page.rows] == [titles.PENDING] * 2


def _failing_or_cached(gate: Gate):
    """``gate`` for the job, ``title_page`` from an empty cache for the look before it."""

    def title(page, backend, *, generate=True, **_options):
        return gate(page, backend) if generate else title_page(page, backend, generate=False)

    return title


def test_a_title_the_model_missed_in_the_background_is_asked_for_again_not_remembered(tmp_path):
    """A miss used to be remembered for a minute ("(remembered)"): the rows kept their templates on every
    later look. In the background nobody waits, so the next look submits the page again."""

    class Late(Backend):
        def generate(self, prompts, *, deadline, max_words):
            self.calls += 1
            return [None] * len(prompts)  # the deadline passed before any answer

    backend, cache = Late(), TitleCache(tmp_path / "titles.json")
    service_title = functools.partial(title_page, cache=cache, catalogue=CATALOGUE)
    titler = BackgroundTitler()
    job = TitleJob(make_page(), backend, service_title)
    first = titles_now(job, titler, {})
    first.job.result(WAIT)
    later = titles_now(job, titler, {})  # another visit of the same page
    assert [r.title_note for r in later.page.rows] == [titles.PENDING] * 2 and later.job is not None
    later.job.result(WAIT)
    assert backend.calls == 2 and not cache.failures
