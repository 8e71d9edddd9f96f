"""The minimal dashboard page, driven through Streamlit's AppTest."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pagegen.cli import main
from pagegen.data import load_dataset, user_history

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def prepared(data_dir):
    assert (
        main(["data", "synth", "--users", "30", "--items", "60", "--interactions", "600", "--seed", "2", "--json"]) == 0
    )
    return data_dir


def _history_length(data_dir, user_id):
    return user_history(load_dataset("synth", data_dir), user_id).height


def _app(**query):
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def test_user_from_url_then_switch(prepared):
    app = _app(dataset="synth", user="5")
    assert not app.exception
    assert app.selectbox(key="user").value == 5
    table = app.dataframe[0].value
    assert len(table) > 0 and list(table.columns)[:2] == ["item_id", "title"]
    assert app.caption[0].value.startswith(f"{_history_length(prepared, 5)} ratings")

    app.selectbox(key="user").set_value(6).run()
    assert not app.exception
    assert app.query_params["user"] == "6"
    assert app.caption[0].value.startswith(f"{_history_length(prepared, 6)} ratings")
    assert len(app.dataframe[0].value) == _history_length(prepared, 6)


def test_unknown_user_in_url_gets_a_message_and_a_picker(prepared):
    app = _app(dataset="synth", user="not-a-user")
    assert not app.exception
    assert "Unknown user 'not-a-user'" in app.warning[0].value
    assert app.selectbox(key="user").value == 1


def test_no_prepared_dataset_says_what_to_run(data_dir):
    app = _app()
    assert not app.exception
    assert "run `pagegen data fetch --dataset ml-100k` first" in app.error[0].value
