"""Every dashboard page through Streamlit's AppTest, on a small synthetic dataset with small models."""

from __future__ import annotations

import dataclasses
import re
import shutil
import threading
from concurrent.futures import wait
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pagegen.app.caches import background_titler, title_backend
from pagegen.app.titling import JOB_KEY, TitleJob
from pagegen.cli import main
from pagegen.data import store
from pagegen.evaluation.protocol import EvaluationReport, save_evaluation
from pagegen.evaluation.reports import save_report
from pagegen.layout import LAYOUT_RANGES, LAYOUTS_DIR, LAYOUTS_DIR_ENV, load_layout
from pagegen.llm.backends import DEFAULT_OLLAMA_CHAT_MODEL, TemplateBackend
from pagegen.llm.titles import PENDING, TitleReport
from pagegen.serving import training_plan
from tests.factories import make_page, pages_report, scenario_report
from tests.loopback import server_url, titling_ollama

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
SMALL_SASREC = [
    "--set",
    "hidden=16",
    "--set",
    "layers=1",
    "--set",
    "heads=1",
    "--set",
    "max_len=20",
    "--set",
    "max_epochs=2",
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A synthetic dataset with its models trained once for the module; layouts in a scratch folder."""
    root = tmp_path_factory.mktemp("dashboard")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(store.DATA_DIR_ENV, str(root / "data"))
        patch.setenv(LAYOUTS_DIR_ENV, str(root / "layouts"))
        patch.delenv("OLLAMA_HOST", raising=False)
        shutil.copytree(LAYOUTS_DIR, root / "layouts")
        synth = ["data", "synth", "--users", "40", "--items", "300", "--interactions", "3000", "--seed", "4", "--json"]
        assert main(synth) == 0
        assert main(["train", "--dataset", "synth", "--model", "sasrec", *SMALL_SASREC, "--json"]) == 0
        yield root


def _app(page: str | None = None, **query: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    for key, value in {"dataset": "synth", **query}.items():
        app.query_params[key] = value
    app.run()
    if page is not None:
        app.switch_page(page).run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def _titles_in(app: AppTest) -> AppTest:
    """What the rows' polling does: wait for the page's background titles, then run again."""
    held = app.session_state.get(JOB_KEY)
    if held is not None:
        wait([held[1]], timeout=60)
    return app.run()


def _row_blocks(app: AppTest) -> list[str]:
    """Each row's HTML, as rendered."""
    return [block.value for block in app.html if "data-row-id" in block.value]


def _card_ids(app: AppTest) -> list[list[str]]:
    """The item ids of each row's cards, as rendered."""
    return [re.findall(r'data-item-id="(\d+)"', block) for block in _row_blocks(app)]


def _row_titles(app: AppTest) -> list[str]:
    return [re.search(r'class="pg-row-title">([^<]*)<', block)[1] for block in _row_blocks(app)]


def _badge(block: str) -> str:
    """A row's title badge: its note (the hover text) and where its title came from."""
    return re.search(r'title="[^"]*">title: \w+', block)[0]


def test_home_page_shows_the_users_rows_from_the_link(prepared):
    app = _app(user="3")
    rows = _card_ids(app)
    assert app.selectbox(key="user").value == 3
    assert len(rows) >= len(load_layout(prepared / "layouts" / "default.toml").tiles) - 2
    assert all(len(cards) >= 5 for cards in rows)  # every carousel at least half full
    flat = [card for cards in rows for card in cards]
    assert len(flat) == len(set(flat))  # hard de-duplication
    assert app.title[0].value == "Home for user 3"
    assert re.search(
        r"· (the best possible page|best page found, within [0-9.]+% of the best possible) · ", app.caption[0].value
    )
    assert "optimal" not in app.caption[0].value and "objective" not in app.caption[0].value
    assert any("pg-history" in block.value for block in app.sidebar.get("html"))  # the history strip


def test_a_slider_move_changes_the_page_and_the_link(prepared):
    app = _app(user="3")
    before = _card_ids(app)
    app.select_slider(key="set.max_genre_share").set_value(0.3).run()
    assert not app.exception
    assert app.query_params["max_genre_share"] == "0.3"
    assert _card_ids(app) != before
    # The link alone reproduces the page in a new session.
    again = _app(user="3", max_genre_share="0.3")
    assert again.select_slider(key="set.max_genre_share").value == 0.3
    assert _card_ids(again) == _card_ids(app)


def test_the_genre_share_slider_says_the_rule_it_sets_and_snaps_between_steps(prepared):
    app = _app(user="3", layout="mobile", max_genre_share="0.3")  # 0.3 of 6 cards is 1.8: one card
    assert app.select_slider(key="set.max_genre_share").value == 0.1
    assert app.select_slider(key="set.max_genre_share").options == ["10%", "33%", "50%", "67%", "83%", "100%"]
    captions = [caption.value for caption in app.sidebar.get("caption")]
    assert "at most 1 of 6 cards per genre (a genre row's own genre aside)" in captions
    app.select_slider(key="set.max_genre_share").set_value(0.6667).run()
    assert "at most 4 of 6 cards per genre (a genre row's own genre aside)" in [
        caption.value for caption in app.sidebar.get("caption")
    ]
    assert app.query_params["max_genre_share"] == "0.6667"


def test_switching_users_random_and_new(prepared):
    app = _app(user="3")
    app.selectbox(key="user").set_value(7).run()
    assert app.query_params["user"] == "7" and app.title[0].value == "Home for user 7"
    app.button[0].click().run()  # random user
    assert not app.exception and app.query_params["user"].isdigit()
    app.button[1].click().run()  # new user: onboarding
    assert app.query_params["user"] == "new"
    genres = app.multiselect(key="genres")
    genres.set_value([genres.options[0]]).run()
    app.multiselect(key="liked").set_value([1, 2]).run()
    assert not app.exception
    assert app.query_params["liked"] == "1,2"
    assert app.title[0].value == "Home for a new user"
    assert "genres" in app.query_params
    assert _card_ids(app)  # a cold-start page


def test_unknown_user_in_the_link_gets_a_message_and_a_picker(prepared):
    app = _app(user="999999")
    assert "Unknown user '999999'" in app.warning[0].value
    assert app.selectbox(key="user").value == 1
    assert _card_ids(app)


def test_bad_settings_in_the_link_are_named_and_ignored(prepared):
    app = _app(user="3", max_genre_share="7", optimizer="magic")
    warnings = " ".join(w.value for w in app.warning)
    assert "setting max_genre_share must be between 0.1 and 1.0, got 7.0" in warnings
    assert "optimizer 'magic'" in warnings
    assert app.select_slider(key="set.max_genre_share").value == 0.5


def test_infeasible_settings_give_the_relaxed_page_with_a_notice(prepared):
    # A floor that 6 of the 120 items pass, for 80 cards: it gives way, and the page says so.
    app = _app(user="3", min_relevance_quantile="0.95")
    assert "Relaxed to fit the page: Minimum personal relevance (percentile): asked 0.95" in app.info[0].value
    assert _card_ids(app)


@pytest.fixture
def fresh_backends():
    """Title backends made anew (their cache is keyed by choice, not by OLLAMA_HOST), before and after."""
    title_backend.clear()
    yield
    title_backend.clear()


def test_backend_down_gives_fallback_titles_with_a_notice(prepared, monkeypatch, fresh_backends):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing listens on the discard port
    app = _titles_in(_app(user="3", backend="ollama"))
    assert any("unavailable" in w.value and "template titles shown" in w.value for w in app.warning)
    assert "Up next for you" in _row_titles(app)


def test_titles_come_in_the_background_and_take_their_rows_in_place(prepared, monkeypatch, fresh_backends):
    """The page is on screen while the titler is busy (another visitor's page holds it); its titles
    come once that page is done, validated, in the rows the page drew with templates."""
    let_go = threading.Event()

    def another_visitors_page(page, backend, **_options):
        assert let_go.wait(60)
        return page, TitleReport(backend.name, 0.0, 0, 0, len(page.rows))

    with titling_ollama() as server:
        monkeypatch.setenv("OLLAMA_HOST", server_url(server))
        busy = background_titler().submit(
            TitleJob(make_page(), TemplateBackend(), another_visitors_page), session="another visitor"
        )
        try:
            app = _app(user="3", backend="ollama")
            assert server.titles == [] and not busy.done()  # drawn without waiting for a title
        finally:
            let_go.set()
        cards, templates = _card_ids(app), _row_titles(app)
        assert [_badge(block) for block in _row_blocks(app)] == [f'title="{PENDING}">title: template'] * len(cards)
        writing = f"ollama:{DEFAULT_OLLAMA_CHAT_MODEL} is writing {len(cards)} row titles"
        assert any(writing in caption.value for caption in app.main.caption)
        assert not app.info and not app.warning  # where the titles came from is said once they are in
        _titles_in(app)
    assert _row_titles(app) == server.titles and len(server.titles) == len(templates)
    model = 'title="where the title came from">title: model'
    assert [_badge(block) for block in _row_blocks(app)] == [model] * len(cards)
    assert _card_ids(app) == cards  # the same rows, retitled in place
    assert not any("is writing" in caption.value for caption in app.caption) and not app.warning


def test_two_sessions_never_share_settings(prepared):
    first, second = _app(user="3"), _app(user="3")
    first.select_slider(key="set.max_genre_share").set_value(0.3).run()
    second.run()
    assert second.select_slider(key="set.max_genre_share").value == 0.5
    assert "max_genre_share" not in second.query_params


def test_settings_survive_moving_between_pages(prepared):
    app = _app(user="4")
    app.select_slider(key="set.popularity_beta").set_value(0.5).run()
    app.switch_page("pages/history.py").run()
    assert app.selectbox(key="user").value == 4 and app.select_slider(key="set.popularity_beta").value == 0.5
    assert "ratings" in app.caption[0].value


def test_compare_two_users_and_two_optimizers(prepared):
    app = _app("pages/compare.py", user="3")
    table = app.dataframe[0].value
    assert list(table.columns)[1:] == ["user 3", "user 4"]
    assert "pg-diff" in "".join(block.value for block in app.html)  # differing items outlined
    app.radio(key="compare.mode").set_value("Two settings").run()
    app.radio(key="compare.optimizer").set_value("greedy").run()
    assert not app.exception
    columns = list(app.dataframe[0].value.columns)
    assert columns[1].startswith("ILP") and columns[2].startswith("GREEDY")


def test_insights_charts_and_saved_reports(prepared):
    app = _app("pages/insights.py", user="3")
    assert len(app.get("vega_lite_chart")) == 3  # genre mix, per row, trade-off
    assert "pagegen evaluate-pages" in app.info[0].value
    assert "No export of synth: run `pagegen pages export --dataset synth`" in app.info[1].value
    data_dir = prepared / "data"
    export = ["pages", "export", "--dataset", "synth", "--users", "6", "--workers", "1", "--json"]
    assert main(export) == 0  # into data/synth/exports/default, where Insights looks
    save_report(data_dir, "synth", "pages", pages_report().to_dict())
    save_evaluation(
        data_dir, "synth", [EvaluationReport("ease", "synth", "leave-last-out", 40, {"ndcg@10": 0.1}, 0.1, 0.01)]
    )
    app.run()
    assert not app.exception
    assert [info.value for info in app.info] == [
        "No saved scenario benchmark for synth: run `pagegen evaluate-pages --scenarios --dataset synth`."
    ]
    save_report(data_dir, "synth", "scenarios", dataclasses.asdict(scenario_report()))
    app.run()
    assert not app.exception and not app.info
    assert list(app.dataframe[-2].value["scenario"]) == ["kids", "kids"]
    assert any("6 of 6 pages (complete)" in caption.value for caption in app.caption)
    assert [m.label for m in app.metric] == ["Hit rate", "Catalogue coverage", "Exposure Gini", "Pages relaxing a rule"]
    assert "genres covered (genres: pages)" in app.code[0].value
    assert "greedy breaks a rule the ILP keeps on 1 users" in app.code[1].value
    assert len(app.get("vega_lite_chart")) == 6  # the export's genres covered and the reliability chart
    assert list(app.dataframe[-1].value["model"]) == ["ease"]


def test_designer_edits_validates_previews_and_saves(prepared):
    app = _app("pages/designer.py", user="3")
    assert "Valid: 8 tiles" in app.success[0].value
    assert _card_ids(app)  # the preview
    app.text_input[0].set_value("Five rows")
    next(b for b in app.button if b.label == "Validate and preview").click().run()
    assert "Valid: 8 tiles" in app.success[0].value
    app.button(key="designer.save").click().run()
    assert "Saved to" in app.success[-1].value
    saved = prepared / "layouts" / "five-rows.toml"
    assert load_layout(saved).name == "Five rows"
    app.button(key="designer.save").click().run()  # again: refuses to replace without the tick
    assert "Not saved" in app.error[0].value


@pytest.mark.parametrize(("row_decay", "slot_decay"), [("0.01", "1"), ("1", "0.01")])
def test_designer_opens_a_layout_with_decays_at_either_end_of_their_range(prepared, row_decay, slot_decay):
    """Whole numbers included: TOML reads ``1`` as an int, which a float slider refuses."""
    text = (prepared / "layouts" / "mobile.toml").read_text()
    text = text.replace("row_decay = 0.75", f"row_decay = {row_decay}").replace(
        "slot_decay = 0.8", f"slot_decay = {slot_decay}"
    )
    path = prepared / "layouts" / "edge.toml"
    path.write_text(text)
    try:
        app = _app("pages/designer.py", user="3")
        app.selectbox(key="designer.file").set_value("edge").run()
        assert not app.exception, [e.message for e in app.exception]
        assert "Valid: 4 tiles" in app.success[0].value
        sliders = {s.label.split()[3]: s for s in app.slider if s.label.startswith("Attention decay")}
        assert {key: s.value for key, s in sliders.items()} == {"row": float(row_decay), "card": float(slot_decay)}
        bounds = LAYOUT_RANGES["row_decay"]
        assert all((s.min, s.max, s.step) == (bounds.low, bounds.high, bounds.step) for s in sliders.values())
    finally:
        path.unlink()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name = [unclosed", "not valid TOML"),
        (b'name = "x"\n[[tiles]]\nkind = "carousel"\nslots = 100000000000\n', "between 3 and 30, got 100000000000"),
        (b'name = 5\n[[tiles]]\nkind = "carousel"\nslots = 8\n', "must be a str"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
        (b"x" * 70_000, "at most 64,000"),
    ],
)
def test_designer_refuses_bad_uploads_and_saves_nothing(prepared, content, message):
    before = sorted(path.name for path in (prepared / "layouts").iterdir())
    app = _app("pages/designer.py", user="3")
    app.radio(key="designer.start").set_value("an uploaded TOML file").run()
    app.get("file_uploader")[0].set_value(("../../etc/passwd.toml", content, "application/toml")).run()
    assert not app.exception
    assert message in app.error[0].value and "Nothing was saved" in app.error[0].value
    assert sorted(path.name for path in (prepared / "layouts").iterdir()) == before


def test_no_prepared_dataset_says_what_to_run(data_dir):
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert "run `pagegen data fetch --dataset ml-100k` first" in app.error[0].value


def test_page_size_from_the_link(prepared):
    app = _app(user="3", rows="25", slots="4")  # 25 rows: more than the row builder makes, so its most
    assert app.select_slider(key="set.rows").value == 12 and app.select_slider(key="set.slots").value == 4
    rows = _card_ids(app)
    assert len(rows) > 8 and all(len(cards) <= 4 for cards in rows)


def test_a_first_start_says_what_it_trains_and_why(tmp_path, monkeypatch):
    """No saved models: the page says which models it trains and why while it waits, then serves."""
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    synth = ["data", "synth", "--users", "30", "--items", "120", "--interactions", "1500", "--seed", "9", "--json"]
    assert main([*synth, "--name", "fresh"]) == 0
    assert main(["train", "--dataset", "fresh", "--model", "sasrec", *SMALL_SASREC, "--json"]) == 0
    from pagegen.app import caches

    plans = []
    monkeypatch.setattr(caches, "training_plan", lambda *args: plans.append(args) or training_plan(*args))
    app = _app(user="2", dataset="fresh", backend="template")
    (status,) = app.status
    lines = [block.value for block in status.markdown]
    assert status.label == "Models trained and saved" and status.state == "complete"
    assert lines == [
        f"training {name} on fresh (leave-last-out): no saved {name} for this split"
        for name in ("ease", "popularity", "trending", "content")
    ]
    assert _card_ids(app)  # and then the page
    app.run()
    assert not app.status and _card_ids(app)
    assert len(plans) == 1  # the plan is read once per process and dataset version, never on a rerun


def _row_ids(app: AppTest) -> list[str]:
    return [re.search(r'data-row-id="([^"]*)"', block)[1] for block in _row_blocks(app)]


def test_asking_for_a_row_puts_it_on_top_and_in_the_link_until_cleared(prepared):
    app = _app(user="3", backend="template")
    plain = _card_ids(app)
    app.chat_input(key="home.ask").set_value("  horror   films ").run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.query_params["ask"] == "horror films"
    assert _row_ids(app)[0] == "asked:0" and _row_titles(app)[0] == "Horror"
    assert '<p class="pg-asked">You asked: horror films</p>' in _row_blocks(app)[0]
    (said,) = [text.value for text in app.text if text.value.startswith("Request")]
    assert said.startswith("Request “horror films” gave the row “Horror” (read by rules)")
    assert not any("You asked" in text.value for text in app.text)  # the row says it, once
    app.chat_input(key="home.ask").set_value("comedy").run()  # the newest on top, the first below it
    assert app.query_params["ask"] == ["comedy", "horror films"]
    assert _row_ids(app)[:2] == ["asked:0", "asked:1"] and _row_titles(app)[:2] == ["Comedy", "Horror"]
    # The link alone reproduces the page in a new session.
    again = _app(user="3", backend="template", ask=["comedy", "horror films"])
    assert _card_ids(again) == _card_ids(app)
    # The requests stay with the session on other pages, which show the pages without them.
    app.switch_page("pages/compare.py").run()
    assert app.query_params["ask"] == ["comedy", "horror films"]
    assert "asked:" not in "".join(block.value for block in app.html)
    app.switch_page("pages/home.py").run()
    assert _row_ids(app)[:2] == ["asked:0", "asked:1"]
    app.button(key="home.clear").click().run()
    assert "ask" not in app.query_params and "home.clear" not in [button.key for button in app.button]
    assert _card_ids(app) == plain and not app.text


def test_a_request_that_cannot_be_read_is_said_and_the_page_stays(prepared):
    app = _app(user="3", backend="template", ask="\u200b")  # an invisible character: nothing to read
    (warning,) = [w.value for w in app.warning]
    assert warning.startswith("Your requests could not be answered (the request is empty: say what you would like")
    assert "asked:0" not in _row_ids(app) and _card_ids(app)
    app.button(key="home.clear").click().run()
    assert "ask" not in app.query_params and not app.warning


def test_a_hostile_request_is_only_ever_shown_as_text(prepared):
    hostile = '<img src=x onerror="alert(1)"> [link](http://evil.example) horror'
    app = _app(user="3", backend="template", ask=hostile)
    assert _row_ids(app)[0] == "asked:0"
    assert "<img" not in "".join(_row_blocks(app)) and "You asked: &lt;img src=x onerror=&quot;" in _row_blocks(app)[0]
    (said,) = [text.value for text in app.text if text.value.startswith("Request")]  # st.text: no markdown
    assert said.startswith(f"Request “{hostile}” gave the row “")
