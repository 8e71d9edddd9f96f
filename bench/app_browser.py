"""The dashboard as a person uses it, timed in a real browser: `streamlit run` on loopback, headless Chromium
driven by Playwright, on a prepared dataset (run `make models` first).

For one user it measures, from the key press (or the Enter that picks a user) to the new page's cards on
screen:
- slider moves: the diversity slider moved one step at a time by the keyboard, to values not seen before
  (each must change the page: a step that changes nothing is counted, not timed), then back over them
  (pages the process has cached);
- user switches: the user picker typed into, as a person does;
- titles: from a move to the moment no row waits for its model title.
With ``--sessions N`` it then opens N browser sessions on Home at once and reports when each drew its
page, each one's slider p95, and the server's memory. Prints one JSON object; the targets are issue 25's.

    .venv/bin/python bench/app_browser.py --user 196 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from pagegen.bench.app import served_dashboard, without_title_cache
from pagegen.data import resolve_data_dir
from pagegen.data.store import DATA_DIR_ENV
from pagegen.llm.titles import PENDING

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
TARGETS_MS = {"slider_p95_ms": 400, "user_switch_p95_ms": 800, "titles_after_move_p95_ms": 5000}
CARDS = "() => [...document.querySelectorAll('[data-row-id] [data-item-id]')].map(c => c.dataset.itemId).join()"
CHANGED = f"(before) => {{ const now = ({CARDS})(); return now.length > 0 && now !== before; }}"
TITLES_DONE = (
    f"() => document.querySelectorAll('[data-row-id]').length > 0"
    f" && ![...document.querySelectorAll('.pg-badge')].some(b => b.title === {json.dumps(PENDING)})"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--user", type=int, default=196)
    parser.add_argument("--switch-to", type=int, nargs="*", default=[7, 42, 305, 512, 877])
    parser.add_argument("--sessions", type=int, default=0, help="concurrent sessions opened at the end (0: none)")
    parser.add_argument("--json", action="store_true", help="only the JSON report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        # A copy of the data without its titles, so the model's titles are timed, not an earlier run's.
        (Path(scratch) / "data").mkdir()
        data_dir = without_title_cache(resolve_data_dir().resolve(), args.dataset, Path(scratch) / "data")
        with served_dashboard({DATA_DIR_ENV: str(data_dir)}, Path(scratch) / "streamlit.log") as (url, pid):
            report = _one_person(url, args.dataset, args.user, args.switch_to, quiet=args.json)
            if args.sessions:
                report["sessions"] = _many(url, args.dataset, args.sessions, pid)
    report["targets_ms"] = TARGETS_MS
    print(json.dumps(report, indent=2))


def _browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)


def _open_home(page, url: str, query: str) -> float:
    """Seconds from the link opened to the page's cards on screen."""
    started = time.perf_counter()
    page.goto(f"{url}/?{query}")
    page.wait_for_function(f"() => ({CARDS})().length > 0", timeout=300_000)
    return time.perf_counter() - started


def _timed(page, action, before: str, timeout_ms: int = 15_000) -> float | None:
    """Milliseconds from ``action`` to cards other than ``before`` on screen; None when they never change."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.perf_counter()
    action()
    try:
        page.wait_for_function(CHANGED, arg=before, timeout=timeout_ms, polling="raf")
    except PlaywrightTimeout:
        return None
    return (time.perf_counter() - started) * 1000


def _titles_done(page, started: float, timeout_ms: int = 60_000) -> float | None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(TITLES_DONE, timeout=timeout_ms, polling=100)
    except PlaywrightTimeout:
        return None
    return (time.perf_counter() - started) * 1000


def _slider_steps(page, key: str, count: int) -> tuple[list[float], list[float], int]:
    """``count`` moves of the first slider by ``key``, each timed to its page, and then to its titles."""
    slider = page.get_by_role("slider").first
    drawn, titled, unchanged = [], [], 0
    for _ in range(count):
        before = page.evaluate(CARDS)
        started = time.perf_counter()
        ms = _timed(page, lambda: (slider.focus(), page.keyboard.press(key)), before)
        if ms is None:
            unchanged += 1
            continue
        drawn.append(ms)
        done = _titles_done(page, started)
        if done is not None:
            titled.append(done)
    return drawn, titled, unchanged


def _one_person(url: str, dataset: str, user: int, switch_to: list[int], *, quiet: bool) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _browser(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        first = _open_home(page, url, f"dataset={dataset}&user={user}")
        first_titles = _titles_done(page, time.perf_counter() - first)
        new_left, titles_left, unchanged_left = _slider_steps(page, "ArrowLeft", 3)  # 0.5 → 0.2
        new_right, titles_right, unchanged_right = _slider_steps(page, "End", 1)  # → 1.0
        back, _, unchanged_back = _slider_steps(page, "Home", 1)  # → the lowest step
        cached, _, _ = _slider_steps(page, "End", 1)  # a page seen before
        switches = []
        for other in switch_to:
            before = page.evaluate(CARDS)

            def pick(other: int = other) -> None:
                page.locator('[data-testid="stSelectbox"]').filter(has_text="User").first.click()
                page.keyboard.type(f"User {other}")
                page.keyboard.press("Enter")

            ms = _timed(page, pick, before, timeout_ms=30_000)
            if ms is not None:
                switches.append(ms)
            _titles_done(page, time.perf_counter())
        browser.close()
    moves = new_left + new_right + back
    if not quiet:
        print(f"slider moves {np.round(moves)} ms, user switches {np.round(switches)} ms", file=sys.stderr)
    return {
        "dataset": dataset,
        "user": user,
        "first_page_seconds": round(first, 2),
        "first_titles_seconds": None if first_titles is None else round(first_titles / 1000, 2),
        "slider_ms": _spread(moves),
        "slider_cached_ms": _spread(cached),
        "slider_unchanged_moves": unchanged_left + unchanged_right + unchanged_back,
        "titles_after_move_ms": _spread(titles_left + titles_right),
        "user_switch_ms": _spread(switches),
    }


def _many(url: str, dataset: str, sessions: int, server_pid: int) -> dict:
    """``sessions`` people opening Home at once, each moving the slider three times."""
    from playwright.sync_api import sync_playwright

    results: list[dict] = [{} for _ in range(sessions)]

    def person(index: int) -> None:
        with sync_playwright() as playwright:
            browser = _browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                results[index]["drawn_seconds"] = _open_home(page, url, f"dataset={dataset}&user={100 + index}")
                moves, _, _ = _slider_steps(page, "ArrowLeft", 3)
                results[index]["slider_ms"] = moves
            except Exception as error:  # one session's failure is reported, not raised
                results[index]["error"] = f"{type(error).__name__}: {error}"[:300]
            browser.close()

    threads = [threading.Thread(target=person, args=(i,)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    process = psutil.Process(server_pid)
    memory = process.memory_info().rss + sum(child.memory_info().rss for child in process.children(recursive=True))
    moves = [ms for result in results for ms in result.get("slider_ms", [])]
    return {
        "sessions": sessions,
        "drawn_seconds_max": round(max(r.get("drawn_seconds", np.inf) for r in results), 2),
        "slider_ms": _spread(moves),
        "errors": [r["error"] for r in results if "error" in r],
        "server_memory_mib": round(memory / 2**20),
    }


def _spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(float(np.median(values))),
        "p95": round(float(np.percentile(values, 95))),
        "max": round(float(np.max(values))),
    }


if __name__ == "__main__":
    main()
