"""Benchmarks that print JSON: the speed targets live here, not in timed tests."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pagegen.data.fetch import fetch_dataset
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.data.store import DATA_DIR_ENV
from pagegen.errors import PagegenError


def bench_fetch(data_dir: Path, dataset: str = DEFAULT_DATASET) -> dict[str, Any]:
    """Prepare ``dataset`` again from its cached source (the recbole wheel offline); target ≤ 10 s."""
    fetch_dataset(dataset, data_dir)  # make sure a cached source exists before timing
    started = time.perf_counter()
    report = fetch_dataset(dataset, data_dir, force=True)
    return {
        "dataset": dataset,
        "source": report.source,
        "seconds": round(time.perf_counter() - started, 3),
        "interactions": report.interactions,
        "users": report.users,
        "items": report.items,
        "target_seconds": 10,
    }


def bench_synth(*, users: int, items: int, interactions: int, seed: int = 0) -> dict[str, Any]:
    """Generate synthetic data in a fresh process so its peak memory is its own; target ≤ 60 s, ≤ 4 GiB."""
    with tempfile.TemporaryDirectory(prefix="pagegen-bench-") as scratch:
        command = [
            sys.executable, "-m", "pagegen.cli", "--data-dir", scratch, "data", "synth", "--json",
            "--users", str(users), "--items", str(items), "--interactions", str(interactions), "--seed", str(seed),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PagegenError(f"synthetic data benchmark failed: {result.stderr.strip().splitlines()[-1:]}")
        report = json.loads(result.stdout)
    return {
        "users": users,
        "items": items,
        "interactions": report["interactions"],
        "seconds": report["seconds"],
        "peak_memory_gib": report["peak_memory_gib"],
        "target_seconds": 60,
        "target_peak_memory_gib": 4,
    }


def bench_generators(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, users: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Fit (or load) every generator, then time scoring one user with all of them; target ≤ 20 ms."""
    from pagegen.data import load_dataset
    from pagegen.generators import EASE, GENERATORS, artifacts
    from pagegen.generators.experiments import leave_last_out_experiment
    from pagegen.seeding import as_generator

    experiment = leave_last_out_experiment(load_dataset(dataset, data_dir))
    models, fits = [], {}
    for cls in GENERATORS.values():
        generator, manifest = artifacts.load_or_train(cls, data_dir, experiment.train, validation=experiment.validation)
        models.append(generator)
        fits[cls.name] = manifest["metrics"]
    ease_single_fit = []
    for _ in range(5):  # one fit at the chosen λ: what a peer's single EASE fit is compared with
        started = time.perf_counter()
        EASE(l2=fits["ease"]["l2"]).fit(experiment.train)
        ease_single_fit.append(time.perf_counter() - started)
    serving = experiment.serving
    chosen = as_generator(seed).choice(serving.user_ids, size=min(users, serving.n_users), replace=False)
    latencies = []
    for user in chosen:
        history = serving.history(int(user))
        started = time.perf_counter()
        for generator in models:
            generator.score_histories([history])
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "dataset": dataset,
        "generators": [g.name for g in models],
        "fit": fits,
        "ease_single_fit_seconds": {
            "min": round(min(ease_single_fit), 4),
            "median": round(statistics.median(ease_single_fit), 4),
        },
        "score_one_user_ms": {
            "median": round(statistics.median(latencies), 2),
            "p95": round(statistics.quantiles(latencies, n=20)[-1], 2),
            "users": len(latencies),
        },
        "target_score_one_user_ms": 20,
    }


def bench_pages(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, layout: str = "default", users: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Build + solve time of one ILP page per sampled user (targets: median ≤ 20 ms, p95 ≤ 50 ms, a gap
    ≤ 0.5 % proven on ≥ 99 % of users, every rule kept), the ILP against greedy on the same objective,
    then every user's ILP page on two worker processes (target ≤ 30 s for ml-100k)."""
    from pagegen.evaluation.pages import evaluate_pages
    from pagegen.layout import resolve_layout
    from pagegen.optimizer import GAP, optimize
    from pagegen.seeding import as_generator
    from pagegen.serving import PageService

    page_layout = resolve_layout(layout)
    service = PageService(dataset, data_dir)
    chosen = as_generator(seed).choice(service.user_ids(), size=min(users, len(service.user_ids())), replace=False)
    solve_ms, rows_ms, gains, statuses, relaxed, by_decomposition, proven = [], [], [], Counter(), 0, 0, 0
    for user in sorted(int(u) for u in chosen):
        started = time.perf_counter()
        problem = service.problem(user, page_layout)
        rows_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        report = optimize(problem, compare=False).report
        solve_ms.append((time.perf_counter() - started) * 1000)
        statuses[report.status] += 1
        proven += report.status == "optimal" and report.gap is not None and report.gap <= GAP
        by_decomposition += report.message.startswith("proven by the decomposition")
        relaxed += bool(report.relaxations)
        gains.append(report.objective - report.baselines["greedy"]["objective"])
    every_user = evaluate_pages(dataset, data_dir, page_layout, optimizers=("ilp",), workers=2)
    return {
        "dataset": dataset,
        "layout": page_layout.name,
        "users": len(solve_ms),
        "rows_ms": _spread(rows_ms),
        "build_and_solve_ms": _spread(solve_ms),
        "statuses": dict(statuses),
        "proven_share": round(proven / len(solve_ms), 4),
        "proven_by_decomposition": by_decomposition,
        "pages_with_relaxations": relaxed,
        "ilp_minus_greedy_objective": {"min": round(min(gains), 4), "mean": round(statistics.mean(gains), 4)},
        "all_users_seconds": round(every_user.seconds, 1),
        "all_users": every_user.users,
        "all_users_hit": {
            "ilp_page": round(every_user.result("ilp").hit, 4),
            "top_picks_alone": round(every_user.top_picks_hit, 4),
        },
        "targets": {
            "build_and_solve_median_ms": 20,
            "build_and_solve_p95_ms": 50,
            "gap": GAP,
            "proven_share": 0.99,
            "all_users_seconds": 30,
        },
    }


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 1),
        "p95": round(statistics.quantiles(values, n=20, method="inclusive")[-1], 1),
        "max": round(max(values), 1),
    }


def bench_titles(data_dir: Path, dataset: str = DEFAULT_DATASET, *, users: int = 20, seed: int = 0) -> dict[str, Any]:
    """The embedded model's second start (targets ≤ 10 s), titles for a default page with it (≤ 2 s)
    and from the cache (≤ 5 ms), and how many shown titles came from the model."""
    from pagegen.layout import resolve_layout
    from pagegen.llm.embedded import EmbeddedBackend, prepare_embedded
    from pagegen.llm.titles import TitleCache
    from pagegen.seeding import as_generator
    from pagegen.serving import PageService

    prepare_embedded(data_dir)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from pagegen.llm.embedded import EmbeddedBackend;"
         " EmbeddedBackend(Path(sys.argv[1])).warm()", str(data_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    second_start = time.perf_counter() - started
    service = PageService(dataset, data_dir)
    service.title_cache = TitleCache()  # measure the model, not an earlier run's cache
    backend = EmbeddedBackend(data_dir)
    backend.warm()
    layout = resolve_layout("default")
    chosen = as_generator(seed).choice(service.user_ids(), size=min(users, len(service.user_ids())), replace=False)
    model_ms, cached_ms, sources = [], [], Counter()
    for user in sorted(int(u) for u in chosen):
        page = service.page(user, layout, compare=False)
        titled, report = service.title(page, backend)
        model_ms.append(report.seconds * 1000)
        sources.update(row.title_source for row in titled.rows)
        cached_ms.append(service.title(page, backend)[1].seconds * 1000)
    return {
        "backend": backend.name,
        "second_start_seconds": round(second_start, 1),
        "page_titles_ms": _spread(model_ms),
        "cached_page_titles_ms": _spread(cached_ms),
        "title_sources": dict(sources),
        "pages": len(model_ms),
        "targets": {"second_start_seconds": 10, "page_titles_ms": 2000, "cached_page_titles_ms": 5},
    }


APP_SCRIPT = Path(__file__).resolve().parent.parent / "streamlit_app.py"


def bench_app(data_dir: Path, dataset: str = DEFAULT_DATASET, *, user: int = 5, revisits: int = 7) -> dict[str, Any]:
    """The dashboard through Streamlit's AppTest in a fresh interpreter (cold caches): the first page
    after start on the default title backend (target ≤ 15 s), a slider move to a new value (the page is
    solved, titles written), and a rerun after a slider move with warm caches and cached titles (target
    ≤ 300 ms)."""
    code = (
        "import json, sys; from pagegen.bench import app_session; "
        f"print(json.dumps(app_session({dataset!r}, {user}, {revisits})))"
    )
    env = {**os.environ, DATA_DIR_ENV: str(data_dir.resolve())}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the app benchmark failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def app_session(dataset: str, user: int, revisits: int) -> dict[str, Any]:
    """One AppTest session; ``bench_app`` runs it in a fresh interpreter."""
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    app = AppTest.from_file(str(APP_SCRIPT), default_timeout=300)
    app.query_params.update(dataset=dataset, user=str(user))
    app.run()
    first = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(app.exception[0].message)
    titles = next((notice.value for notice in app.info if notice.value.startswith("Titles by")), "all from the model")
    shares = [0.25, 0.35, 0.45, 0.65, 0.75, 0.85, 0.95][:revisits]  # none is the default layout's 0.5
    new_setting, rerun = [], []
    for visit in (new_setting, rerun, rerun):  # first visits solve and title; later ones are warm
        for share in shares:
            slider = app.slider(key="set.max_genre_share").set_value(share)
            started = time.perf_counter()
            slider.run()
            visit.append((time.perf_counter() - started) * 1000)
    return {
        "dataset": dataset,
        "user": user,
        "first_page_seconds": round(first, 2),
        "titles": titles,
        "slider_to_new_value_ms": _spread(new_setting),
        "slider_rerun_warm_ms": _spread(rerun),
        "targets": {"first_page_seconds": 15, "slider_rerun_warm_p95_ms": 300},
    }
