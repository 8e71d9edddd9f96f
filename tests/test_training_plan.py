"""The page service says what it has to train and why: ahead of time for the dashboard, on stderr when asked."""

import pytest

from pagegen.data import SynthConfig, synthesize, write_dataset
from pagegen.serving import PageService, training_plan
from tests.factories import SMALL_MODELS

MODELS = ("ease", "popularity", "trending")


@pytest.fixture
def data_dir(tmp_path):
    tables = synthesize(SynthConfig(users=60, items=80, interactions=2000, seed=5))
    write_dataset(tmp_path, "synth", tables, source="test")
    return tmp_path


def test_the_plan_names_what_the_service_trains_then_nothing(data_dir, capfd):
    plan = training_plan("synth", data_dir, models=MODELS, params=SMALL_MODELS)
    assert plan == [f"training {name} on synth (leave-last-out): no saved {name} for this split" for name in MODELS]
    PageService("synth", data_dir, models=MODELS, params=SMALL_MODELS)
    assert capfd.readouterr() == ("", "")  # trained without a word: progress is off
    assert training_plan("synth", data_dir, models=MODELS, params=SMALL_MODELS) == []


def test_with_progress_the_service_says_the_plan_on_stderr(data_dir, capfd):
    plan = training_plan("synth", data_dir, models=MODELS, params=SMALL_MODELS)
    PageService("synth", data_dir, models=MODELS, params=SMALL_MODELS, progress=True)
    out, err = capfd.readouterr()
    assert out == ""  # stdout may carry --json
    assert [line for line in err.splitlines() if line.startswith("training ")] == plan
