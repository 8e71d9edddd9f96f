"""What a person sees: `streamlit run` in a real headless Chromium, driven by Playwright."""

import contextlib
import json
import os
from pathlib import Path

import pytest

from pagegen.bench.app import served_dashboard
from pagegen.cli import main
from pagegen.llm.titles import PENDING
from tests.loopback import server_url, titling_ollama

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    # CI sets PAGEGEN_REQUIRE_BROWSER=1 so a missing browser fails there instead of skipping.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("PAGEGEN_REQUIRE_BROWSER"),
        reason="Debian chromium is not installed (apt-get install chromium)",
    ),
]


@pytest.fixture
def ollama():
    """A stand-in Ollama server for the app, which the test picks as the title backend. It answers each row
    after 0.1 s, as a server does: answering at once, it could title the page before the rows were drawn
    waiting for it, and the test would miss that state."""
    with titling_ollama(delay=0.1) as server:
        yield server


@pytest.fixture
def app_url(data_dir, tmp_path, ollama):
    synth = ["data", "synth", "--users", "40", "--items", "300", "--interactions", "3000", "--seed", "3"]
    assert main(synth) == 0
    small_sasrec = ["--set", "hidden=16", "--set", "layers=1", "--set", "heads=1", "--set", "max_epochs=2"]
    assert main(["train", "--dataset", "synth", "--model", "sasrec", *small_sasrec]) == 0
    with served_dashboard({"OLLAMA_HOST": server_url(ollama)}, tmp_path / "streamlit.log", start_seconds=60) as (
        url,
        _,
    ):
        yield url


def _cards(page) -> list[str]:
    """The item ids of the cards on screen, row by row in reading order."""
    return page.eval_on_selector_all("[data-row-id] [data-item-id]", "cards => cards.map(c => c.dataset.itemId)")


# Each row's title, cards, and title badge (where its title came from and, its hover text, why); and how
# many row titles the page says are being written (its caption, drawn after the rows).
ROWS = """() => {
  const rows = [...document.querySelectorAll('[data-row-id]')];
  const badge = row => [...row.querySelectorAll('.pg-badge')].find(b => b.textContent.startsWith('title:'));
  const writing = document.body.innerText.match(/is writing (\\d+) row titles/);
  return {
    titles: rows.map(row => row.querySelector('.pg-row-title').textContent),
    cards: rows.flatMap(row => [...row.querySelectorAll('[data-item-id]')].map(card => card.dataset.itemId)),
    sources: rows.map(row => badge(row).textContent),
    notes: rows.map(row => badge(row).title),
    writing: writing ? Number(writing[1]) : 0,
  };
}"""


# Records every state of the rows the page shows (``ROWS``), in a list that lives as long as the document.
WATCH_ROWS = f"""() => {{
  const states = window.pgRowStates = [];
  const look = () => {{
    const rows = ({ROWS})(), last = JSON.stringify(rows);
    window.pgChanged = performance.now();
    if (JSON.stringify(states[states.length - 1]) !== last) states.push(rows);
  }};
  look();
  new MutationObserver(look).observe(document.body, {{subtree: true, childList: true, characterData: true}});
}}"""


def test_home_page_switch_user_move_a_slider_and_get_model_titles_in_chromium(app_url, ollama, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app_url}/?dataset=synth&user=5")
        page.get_by_text("Home for user 5").wait_for(timeout=90_000)
        page.wait_for_function(  # rows arrive one by one: at least two carousels' worth of cards
            "() => document.querySelectorAll('[data-row-id] [data-item-id]').length >= 20", timeout=60_000
        )
        first = _cards(page)
        # Cards keep their fixed width in a real layout (a flex row without one squeezes them to slivers);
        # the browser may lay a card out once before the page's style applies, so give it a moment.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                "() => document.querySelector('[data-row-id] [data-item-id]').getBoundingClientRect().width < 400",
                timeout=10_000,
            )
        box = page.locator("[data-row-id] [data-item-id]").first.bounding_box()
        assert box is not None and 160 <= box["width"] <= 185, box
        page.screenshot(path=str(tmp_path / "home-user-5.png"), full_page=True)

        # Switch the user the way a person does: open the picker, type, press Enter.
        page.locator('[data-testid="stSelectbox"]').filter(has_text="User").first.click()
        page.keyboard.type("User 7")
        page.keyboard.press("Enter")
        page.get_by_text("Home for user 7").wait_for(timeout=60_000)
        page.wait_for_function("() => new URL(location.href).searchParams.get('user') === '7'", timeout=30_000)
        page.wait_for_function(
            "(before) => { const ids = [...document.querySelectorAll('[data-row-id] [data-item-id]')].map(c => c.dataset.itemId);"
            " return ids.length > 0 && ids.join() !== before.join(); }",
            arg=first,
            timeout=30_000,
        )
        second = _cards(page)

        # Move the diversity slider with the keyboard one step (0.5 → 0.4: on carousels of ten each step is
        # one card of a genre more or less): the page and the link follow.
        page.get_by_role("slider").first.focus()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "() => new URL(location.href).searchParams.get('max_genre_share') === '0.4'", timeout=30_000
        )
        page.wait_for_function(
            "(before) => { const ids = [...document.querySelectorAll('[data-row-id] [data-item-id]')].map(c => c.dataset.itemId);"
            " return ids.length > 0 && ids.join() !== before.join(); }",
            arg=second,
            timeout=30_000,
        )
        page.screenshot(path=str(tmp_path / "home-user-7-diverse.png"), full_page=True)
        assert (tmp_path / "home-user-7-diverse.png").stat().st_size > 10_000

        # Titles by a model: pick the Ollama backend; the page is drawn again at once with its templates, and
        # the rows take the model's titles in place as they come, without a reload. The rows change by
        # themselves, some states briefly: the page records each state it shows, in this document.
        page.evaluate(WATCH_ROWS)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Title backend").first.click()
        page.keyboard.type("ollama")
        page.keyboard.press("Enter")
        pending = json.dumps(PENDING)
        page.wait_for_function(  # every row final, some by the model (a row that timed out says so), and still
            f"() => {{ const rows = ({ROWS})(); return rows.sources.includes('title: model') && !rows.writing"
            f" && !rows.notes.includes({pending}) && performance.now() - window.pgChanged > 1000; }}",
            timeout=60_000,
        )
        titled, states = page.evaluate(ROWS), page.evaluate("() => window.pgRowStates")
        waiting = [  # the same rows, each with its template and a note that its title is on its way
            state for state in states if state["cards"] == titled["cards"] and {*state["notes"]} == {PENDING}
        ]
        assert waiting, "the rows were never shown waiting for their titles"
        assert set(titled["titles"]) - set(waiting[0]["titles"]) <= set(ollama.titles)
        page.screenshot(path=str(tmp_path / "home-user-7-titled.png"), full_page=True)
        browser.close()


def test_a_request_typed_into_the_chat_input_puts_its_row_on_top_in_chromium(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app_url}/?dataset=synth&user=5&backend=template")
        page.get_by_text("Home for user 5").wait_for(timeout=90_000)
        page.locator("[data-row-id] [data-item-id]").first.wait_for(timeout=60_000)
        page.get_by_placeholder("Ask for a row").fill("comedy films")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.querySelector('[data-row-id]')?.dataset.rowId === 'asked:0'", timeout=60_000
        )
        assert page.evaluate("() => new URL(location.href).searchParams.getAll('ask')") == ["comedy films"]
        said = page.get_by_text("Request “comedy films” gave the row “Comedy” (read by rules)")
        first = page.locator("[data-row-id]").first
        assert first.locator(".pg-row-title").inner_text() == "Comedy"
        assert first.locator(".pg-asked").inner_text() == "You asked: comedy films"
        # Both at the top of the page, on screen (the window is not scrolled away from them): the line above
        # the rows, the asked row above every other row.
        tops = page.eval_on_selector_all("[data-row-id]", "rows => rows.map(r => r.getBoundingClientRect().top)")
        assert 0 < said.bounding_box()["y"] < tops[0] == min(tops) < 1000
        page.screenshot(path=str(tmp_path / "home-asked.png"), full_page=True)
        browser.close()
