"""The app suite: the dashboard through Streamlit's AppTest, in a fresh interpreter (cold caches)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pagegen.bench.timing import Spread, spread
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.data.store import DATA_DIR_ENV
from pagegen.files import DASHBOARD_SCRIPT


@dataclass(frozen=True)
class AppBench:
    KEY: ClassVar[str] = "app"
    TARGETS: ClassVar[dict[str, float]] = {"first_page_seconds": 15, "slider_rerun_warm_p95_ms": 300}

    dataset: str
    user: int
    first_page_seconds: float
    titles: str  # the dashboard's notice about the titles, or "all from the model"
    slider_to_new_value_ms: Spread  # the page solved and titled
    slider_rerun_warm_ms: Spread  # warm caches, cached titles

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "targets": dict(self.TARGETS)}

    def text(self) -> str:
        new, warm = self.slider_to_new_value_ms, self.slider_rerun_warm_ms
        return (
            f"dashboard (AppTest): first page after start {self.first_page_seconds} s "
            f"(target ≤ {self.TARGETS['first_page_seconds']} s); slider to a new value median {new.median} ms; "
            f"rerun after a slider move, warm: median {warm.median} ms, p95 {warm.p95} ms "
            f"(target ≤ {self.TARGETS['slider_rerun_warm_p95_ms']} ms)"
        )


def bench_app(data_dir: Path, dataset: str = DEFAULT_DATASET, *, user: int = 5, revisits: int = 7) -> AppBench:
    """The first page after start on the default title backend, a slider move to a new value, and a
    rerun after a slider move with warm caches, timed by ``app_session`` in a fresh interpreter."""
    code = (
        "import json; from pagegen.bench.app import app_session; "
        f"print(json.dumps(app_session({dataset!r}, {user}, {revisits})))"
    )
    env = {**os.environ, DATA_DIR_ENV: str(data_dir.resolve())}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the app benchmark failed: {done.stderr[-2000:]}")
    timings = json.loads(done.stdout.strip().splitlines()[-1])
    return AppBench(
        dataset=dataset,
        user=user,
        first_page_seconds=round(timings["first_page_seconds"], 2),
        titles=timings["titles"],
        slider_to_new_value_ms=spread(timings["slider_to_new_value_ms"]),
        slider_rerun_warm_ms=spread(timings["slider_rerun_warm_ms"]),
    )


def app_session(dataset: str, user: int, revisits: int) -> dict[str, Any]:
    """One AppTest session's raw timings; ``bench_app`` runs it in a fresh interpreter."""
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    app = AppTest.from_file(str(DASHBOARD_SCRIPT), default_timeout=300)
    app.query_params.update(dataset=dataset, user=str(user))
    app.run()
    first = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(app.exception[0].message)
    titles = next((notice.value for notice in app.info if notice.value.startswith("Titles by")), "all from the model")
    shares = [0.25, 0.35, 0.45, 0.65, 0.75, 0.85, 0.95][:revisits]  # none is the default layout's 0.5
    new_setting: list[float] = []
    rerun: list[float] = []
    for visit in (new_setting, rerun, rerun):  # first visits solve and title; later ones are warm
        for share in shares:
            slider = app.slider(key="set.max_genre_share").set_value(share)
            started = time.perf_counter()
            slider.run()
            visit.append((time.perf_counter() - started) * 1000)
    return {
        "first_page_seconds": first,
        "titles": titles,
        "slider_to_new_value_ms": new_setting,
        "slider_rerun_warm_ms": rerun,
    }
