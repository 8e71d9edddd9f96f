"""The bench report: each suite's JSON (figures, then its targets) and text (each figure beside its
target), and the data suite's synthetic run through ``python -m pagegen.cli``."""

import json
import subprocess
import sys

from pagegen.bench import BenchReport, format_bench
from pagegen.bench.app import AppBench, without_title_cache
from pagegen.bench.data import FetchBench, bench_synth
from pagegen.bench.pages import PagesBench
from pagegen.bench.timing import Spread, spread
from pagegen.serving import TITLE_CACHE

TIMES = Spread(median=12.5, p95=40.0, max=51.2)


def _pages() -> PagesBench:
    return PagesBench(
        dataset="ml-100k", layout="Default streaming page", users=200, rows_ms=TIMES, build_and_solve_ms=TIMES,
        statuses={"optimal": 200}, proven_share=0.995, proven_by_decomposition=150, pages_with_relaxations=3,
        ilp_minus_greedy_objective={"min": 0.0, "mean": 0.08}, all_users_seconds=22.1, all_users=943,
        all_users_hit={"ilp_page": 0.593, "relevance_only": 0.55},
    )  # fmt: skip


def test_json_puts_each_suite_under_its_name_with_its_targets():
    fetch = FetchBench("ml-100k", "recbole", 1.234, 100_000, 943, 1682)
    app = AppBench("ml-100k", 5, 9.87, 12.5, {"model": 8}, "", TIMES, TIMES, TIMES, TIMES)
    payload = json.loads(json.dumps(BenchReport((fetch, _pages(), app)).to_dict()))
    assert list(payload) == ["fetch", "pages", "app"]
    assert payload["fetch"] == {"dataset": "ml-100k", "source": "recbole", "seconds": 1.234, "interactions": 100_000,
                                "users": 943, "items": 1682, "target_seconds": 10}  # fmt: skip
    assert list(payload["pages"])[-1] == "targets" and payload["pages"]["targets"]["gap"] == 0.005
    assert payload["pages"]["build_and_solve_ms"] == {"median": 12.5, "p95": 40.0, "max": 51.2}
    assert payload["app"]["targets"] == {
        "first_page_seconds": 15,
        "slider_to_new_value_p95_ms": 300,
        "slider_rerun_warm_p95_ms": 300,
    }
    assert app.text() == (
        "dashboard (AppTest): first page after start 9.87 s (target ≤ 15 s), its titles 12.5 s (8 model); "
        "slider to a new value p95 40.0 ms, in a drag p95 40.0 ms (target ≤ 300 ms), its titles median 12.5 ms, "
        "p95 40.0 ms; back to a value seen before p95 40.0 ms (target ≤ 300 ms)"
    )


def test_text_is_a_line_or_two_per_suite():
    fetch = FetchBench("ml-100k", "recbole", 1.234, 100_000, 943, 1682)
    lines = format_bench(BenchReport((fetch, _pages()))).splitlines()
    assert lines[0] == "fetch ml-100k from recbole: 1.23 s (target ≤ 10 s)"
    assert lines[1] == (
        "page build+solve (Default streaming page, 200 users): median 12.5 ms (target ≤ 20), p95 40.0 ms "
        "(target ≤ 50); proven within 0.5 % on 99.5% (target ≥ 99 %), 150 by the decomposition; "
        "3 pages relax a rule; statuses {'optimal': 200}"
    )
    assert lines[2] == (
        "ILP − greedy objective: min 0.0, mean 0.08; pages for all 943 users 22.1 s on 2 workers (target ≤ 30 s); "
        "hit 0.593 (relevance only, as many items: 0.55)"
    )
    assert len(lines) == 3 and format_bench(BenchReport(())) == ""


def test_the_app_suite_reads_the_data_but_not_its_title_cache(tmp_path):
    data_dir, scratch = tmp_path / "data", tmp_path / "scratch"
    for path in ("ml-100k/models/ease.npz", "ml-100k/manifest.json", f"ml-100k/{TITLE_CACHE}", "llm/model", "synth/x"):
        (data_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / path).write_text(path)
    scratch.mkdir()
    untitled = without_title_cache(data_dir, "ml-100k", scratch)
    assert sorted(p.name for p in untitled.iterdir()) == ["llm", "ml-100k", "synth"]
    assert sorted(p.name for p in (untitled / "ml-100k").iterdir()) == ["manifest.json", "models"]
    assert (untitled / "ml-100k" / "models" / "ease.npz").read_text() == "ml-100k/models/ease.npz"


def test_spread_of_timings():
    # p95 inclusive: position 0.95 · 4 = 3.8 between 4 and 100, so 4 + 0.8 · 96
    assert spread([1.0, 2.0, 3.0, 4.0, 100.0]) == Spread(median=3.0, p95=80.8, max=100.0)
    assert spread([7.25]) == Spread(median=7.2, p95=7.2, max=7.2)  # one page: `bench --title-users 1`


def test_synthetic_data_in_a_fresh_process():
    result = bench_synth(users=30, items=20, interactions=300)
    assert (result.users, result.items, result.interactions) == (30, 20, 300)
    assert result.to_dict()["target_peak_memory_gib"] == 4 and result.text().startswith("synth 300 interactions: ")


def test_benchmarks_stay_out_of_the_librarys_imports():
    code = (
        "import sys, pagegen.cli, pagegen.serving, pagegen.evaluation.pages; assert 'pagegen.bench' not in sys.modules; "
        "import pagegen.bench.app, pagegen.bench.report; assert 'streamlit.testing.v1' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
