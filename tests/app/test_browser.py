"""What a person sees: `streamlit run` in a real headless Chromium, driven by Playwright."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pagegen.cli import main

CHROMIUM = Path("/usr/bin/chromium")
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"

pytestmark = [
    pytest.mark.browser,
    # CI sets PAGEGEN_REQUIRE_BROWSER=1 so a missing browser fails there instead of skipping.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("PAGEGEN_REQUIRE_BROWSER"),
        reason="Debian chromium is not installed (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def app_url(data_dir, tmp_path):
    assert main(["data", "synth", "--users", "40", "--items", "60", "--interactions", "900", "--seed", "3"]) == 0
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=APP.parent, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def test_user_history_page_in_chromium(app_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url}/?dataset=synth&user=5")
        page.get_by_text("User history").first.wait_for(timeout=60_000)
        caption = page.locator('[data-testid="stCaptionContainer"]').first
        caption.wait_for(timeout=30_000)
        first = caption.inner_text()
        page.screenshot(path=str(tmp_path / "history-user-5.png"))

        # Switch the user the way a person does: open the picker, type, press Enter.
        page.locator('[data-testid="stSelectbox"]').filter(has_text="User").first.click()
        page.keyboard.type("7")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(before) => { const c = document.querySelector('[data-testid=\"stCaptionContainer\"]'); return c && c.innerText !== before; }",
            arg=first,
            timeout=30_000,
        )
        assert "ratings" in caption.inner_text()
        page.wait_for_function("() => new URL(location.href).searchParams.get('user') === '7'", timeout=30_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible", timeout=30_000)
        page.screenshot(path=str(tmp_path / "history-user-7.png"))
        browser.close()
