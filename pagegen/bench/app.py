"""The app suite: the dashboard through Streamlit's AppTest, in a fresh interpreter (cold caches) over a
data directory without the title cache, so the model's titles are timed rather than an earlier run's.

A page is on screen, and the app free again, when the script run after a slider move ends; its titles
come after, from the background titler. AppTest runs no fragment on its own, so the suite looks for
them as the page's polling does, by running the page again every ``POLL_SECONDS`` until no row's title
is pending.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, ClassVar

from pagegen.bench.timing import Spread, spread
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.data.store import DATA_DIR_ENV
from pagegen.files import DASHBOARD_SCRIPT
from pagegen.llm.titles import PENDING
from pagegen.serving import TITLE_CACHE

POLL_SECONDS = 0.2
# Diversity slider steps on the default layout's carousels of ten, none of them its 0.5: moves with the
# titler idle (the page before titled), then moves made one right after another, as a drag makes them.
SETTLED_SHARES = (0.2, 0.3, 0.4, 0.6)
DRAGGED_SHARES = (0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class AppBench:
    KEY: ClassVar[str] = "app"
    TARGETS: ClassVar[dict[str, float]] = {
        "first_page_seconds": 15,
        "slider_to_new_value_p95_ms": 300,  # for a move with the titler idle and one in a drag alike
        "slider_rerun_warm_p95_ms": 300,
    }

    dataset: str
    user: int
    first_page_seconds: float  # the first page on screen after start
    first_titles_seconds: float  # its titles on screen, from the start
    first_page_titles: dict[str, int]  # where the first page's titles came from: model, cache, template
    titles_notice: str  # what the dashboard said of the first page's titles, "" when nothing
    slider_to_new_value_ms: Spread  # the page on screen after a move to a new value, the titler idle
    slider_dragged_ms: Spread  # the same, moves one right after another (the titler busy with the page before)
    titles_after_move_ms: Spread  # from a move (titler idle) until its page's titles are on screen
    slider_rerun_warm_ms: Spread  # moved back to a value seen before: cached page and titles

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "targets": dict(self.TARGETS)}

    def text(self) -> str:
        targets, sources = self.TARGETS, ", ".join(f"{n} {source}" for source, n in self.first_page_titles.items())
        return (
            f"dashboard (AppTest): first page after start {self.first_page_seconds} s "
            f"(target ≤ {targets['first_page_seconds']} s), its titles {self.first_titles_seconds} s ({sources}); "
            f"slider to a new value p95 {self.slider_to_new_value_ms.p95} ms, in a drag p95 "
            f"{self.slider_dragged_ms.p95} ms (target ≤ {targets['slider_to_new_value_p95_ms']} ms), its titles "
            f"median {self.titles_after_move_ms.median} ms, p95 {self.titles_after_move_ms.p95} ms; back to a value "
            f"seen before p95 {self.slider_rerun_warm_ms.p95} ms (target ≤ {targets['slider_rerun_warm_p95_ms']} ms)"
        )


def bench_app(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, user: int = 5, moves: int = len(SETTLED_SHARES)
) -> AppBench:
    """The first page after start on the default title backend and its titles, slider moves to new values
    (the titler idle, then in a drag) and their titles, and moves back, timed by ``app_session`` in a
    fresh interpreter over ``data_dir`` without its title cache."""
    code = (
        "import json; from pagegen.bench.app import app_session; "
        f"print(json.dumps(app_session({dataset!r}, {user}, {moves})))"
    )
    with tempfile.TemporaryDirectory(prefix="pagegen-bench-app-") as scratch:
        untitled = without_title_cache(data_dir.resolve(), dataset, Path(scratch))
        env = {**os.environ, DATA_DIR_ENV: str(untitled)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the app benchmark failed: {done.stderr[-2000:]}")
    timings = json.loads(done.stdout.strip().splitlines()[-1])
    return AppBench(
        dataset=dataset,
        user=user,
        first_page_seconds=round(timings["first_page_seconds"], 2),
        first_titles_seconds=round(timings["first_titles_seconds"], 2),
        first_page_titles=timings["first_page_titles"],
        titles_notice=timings["titles_notice"],
        slider_to_new_value_ms=spread(timings["slider_to_new_value_ms"]),
        slider_dragged_ms=spread(timings["slider_dragged_ms"]),
        titles_after_move_ms=spread(timings["titles_after_move_ms"]),
        slider_rerun_warm_ms=spread(timings["slider_rerun_warm_ms"]),
    )


@contextlib.contextmanager
def served_dashboard(env: Mapping[str, str], log: Path, *, start_seconds: float = 120) -> Iterator[tuple[str, int]]:
    """The dashboard served by `streamlit run` on a free loopback port with ``env`` added to this process's
    environment, its output in ``log``: its URL and process id once it answers its health check; stopped
    on exit. A real browser drives it (the browser tests, ``bench/app_browser.py``)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_SCRIPT), "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=DASHBOARD_SCRIPT.parent, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}") from None
                    time.sleep(0.3)
            yield url, server.pid
        finally:
            server.terminate()
            server.wait(timeout=30)


def without_title_cache(data_dir: Path, dataset: str, scratch: Path) -> Path:
    """``scratch`` made a data directory linking everything in ``data_dir`` but the dataset's title cache:
    the dashboard starts with no titles, and the bench's titles stay out of the real cache."""
    for entry in data_dir.iterdir():
        if entry.name != dataset:
            (scratch / entry.name).symlink_to(entry)
    (scratch / dataset).mkdir()
    for entry in (data_dir / dataset).iterdir():
        if entry.name != TITLE_CACHE:
            (scratch / dataset / entry.name).symlink_to(entry)
    return scratch


def app_session(dataset: str, user: int, moves: int) -> dict[str, Any]:
    """One AppTest session's raw timings; ``bench_app`` runs it in a fresh interpreter. The drag comes
    last, so no page it leaves to the titler competes with the moves timed before it."""
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    app = AppTest.from_file(str(DASHBOARD_SCRIPT), default_timeout=300)
    app.query_params.update(dataset=dataset, user=str(user))
    _checked(app.run())
    first_page = time.perf_counter() - started
    first_titles = _titles_in(app) - started
    sources = Counter(re.findall(r">title: (\w+)</span>", "".join(_rows(app))))
    notices = [notice.value for notice in (*app.warning, *app.info) if "title" in notice.value.lower()]
    settled, titles, warm, dragged = [], [], [], []
    for share in SETTLED_SHARES[:moves]:
        moved = _move(app, share, settled)
        titles.append((_titles_in(app) - moved) * 1000)
    for share in SETTLED_SHARES[:moves]:
        _move(app, share, warm)
    for share in DRAGGED_SHARES[:moves]:
        _move(app, share, dragged)
    return {
        "first_page_seconds": first_page,
        "first_titles_seconds": first_titles,
        "first_page_titles": dict(sorted(sources.items())),
        "titles_notice": notices[0] if notices else "",
        "slider_to_new_value_ms": settled,
        "slider_dragged_ms": dragged,
        "titles_after_move_ms": titles,
        "slider_rerun_warm_ms": warm,
    }


def _move(app: Any, share: float, timings: list[float]) -> float:
    """Move the diversity slider to ``share``; the run's milliseconds go to ``timings``; returns when it
    started."""
    slider = app.select_slider(key="set.max_genre_share").set_value(share)
    started = time.perf_counter()
    slider.run()
    timings.append((time.perf_counter() - started) * 1000)
    _checked(app)
    return started


def _titles_in(app: Any) -> float:
    """Run the page every ``POLL_SECONDS`` until no row's title is pending; returns when they were on screen."""
    while any(f'title="{escape(PENDING)}"' in row for row in _rows(app)):
        time.sleep(POLL_SECONDS)
        _checked(app.run())
    return time.perf_counter()


def _checked(app: Any) -> Any:
    if app.exception:
        raise RuntimeError(app.exception[0].message)
    return app


def _rows(app: Any) -> list[str]:
    return [block.value for block in app.html if "data-row-id" in block.value]
