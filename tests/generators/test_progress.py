"""Long work says what it trains and why, on stderr and only when asked; progress never changes a result."""

import json

import numpy as np
import pytest

from pagegen.errors import ArtifactError
from pagegen.generators import EASE, Content, SASRec, Validation, artifacts, build_training_data
from pagegen.generators.sasrec import _epoch_bound

SMALL_SASREC = {"max_epochs": 2, "hidden": 16, "layers": 1, "heads": 1, "max_len": 10}


class LengthEmbedder:
    """A stand-in for MiniLM: one dimension, the text's length."""

    name = "text-length"

    def embed(self, texts, *, progress=False):
        return np.array([[len(text)] for text in texts], dtype=np.float32)


@pytest.fixture
def validation(training):
    """Each of the first 20 users' history without its last item, which is the target."""
    histories = [training.history(int(u)) for u in training.user_ids[:20]]
    return Validation(histories=[h[:-1] for h in histories], targets=np.array([h[-1] for h in histories]))


def test_the_notice_says_why_a_model_is_trained(training, synthetic, tmp_path):
    notice = artifacts.training_notice(EASE, tmp_path, training)
    assert notice == "training ease on synth (all): no saved ease for this split"
    artifacts.load_or_train(EASE, tmp_path, training, validation=None)
    assert artifacts.training_notice(EASE, tmp_path, training) is None  # it loads
    assert artifacts.training_notice(EASE, tmp_path, training, retrain=True) == (
        "training ease on synth (all): asked to retrain (the saved ease still fits this data)"
    )
    other_data = build_training_data(synthetic, synthetic.interactions, split="all")
    object.__setattr__(other_data, "fingerprint", "0000000000000000")
    assert artifacts.training_notice(EASE, tmp_path, other_data) == (
        "training ease on synth (all): the saved ease does not fit: it was trained with dataset fingerprint "
        f"{training.fingerprint!r}, not '0000000000000000'"
    )


def test_the_notice_names_only_the_parameters_that_differ(training, tmp_path):
    artifacts.load_or_train(EASE, tmp_path, training, validation=None, params={"l2": 7.0})
    notice = artifacts.training_notice(EASE, tmp_path, training, params={"l2": 9.0})
    assert notice.endswith("the saved ease does not fit: it was trained with parameters {'l2': 7.0}, not {'l2': 9.0}")


def test_a_model_saved_by_an_older_pagegen_is_retrained_and_says_so(training, tmp_path):
    artifacts.load_or_train(EASE, tmp_path, training, validation=None)
    _, manifest_path = artifacts.artifact_paths(tmp_path, training, "ease")
    manifest = json.loads(manifest_path.read_text())
    del manifest["n_items"]  # written since a later version
    manifest_path.write_text(json.dumps(manifest))
    assert artifacts.training_notice(EASE, tmp_path, training) == (
        "training ease on synth (all): the saved ease does not fit: "
        "it was saved by an older pagegen, whose manifest has no catalogue size"
    )
    _, manifest = artifacts.load_or_train(EASE, tmp_path, training, validation=None)
    assert manifest["n_items"] == training.n_items


def test_a_corrupted_manifest_is_an_error_unless_it_is_replaced(training, tmp_path):
    artifacts.load_or_train(EASE, tmp_path, training, validation=None)
    artifacts.artifact_paths(tmp_path, training, "ease")[1].write_text("{not json")
    with pytest.raises(ArtifactError, match="is corrupted"):
        artifacts.training_notice(EASE, tmp_path, training)
    assert artifacts.training_notice(EASE, tmp_path, training, retrain=True) == (
        "training ease on synth (all): the saved ease is corrupted; replacing it, as asked"
    )


def test_training_without_progress_writes_nothing(training, validation, tmp_path, capfd):
    artifacts.load_or_train(EASE, tmp_path, training, validation=validation)
    artifacts.load_or_train(SASRec, tmp_path, training, validation=validation, params=SMALL_SASREC)
    assert capfd.readouterr() == ("", "")


def test_training_with_progress_says_what_and_why_on_stderr(training, validation, tmp_path, capfd):
    artifacts.load_or_train(EASE, tmp_path, training, validation=validation, progress=True)
    artifacts.load_or_train(SASRec, tmp_path, training, validation=validation, params=SMALL_SASREC, progress=True)
    out, err = capfd.readouterr()
    assert out == ""  # stdout may carry --json
    assert "training ease on synth (all): no saved ease for this split" in err
    assert "ease λ grid" in err and "val_ndcg=" in err
    assert "training sasrec on synth (all): no saved sasrec for this split" in err
    assert "sasrec epochs" in err and "best=" in err and "stale=" in err
    artifacts.load_or_train(EASE, tmp_path, training, validation=validation, progress=True)
    assert capfd.readouterr() == ("", "")  # loading is quick and says nothing


def test_content_says_what_it_embeds(training, capfd):
    Content(embedder_instance=LengthEmbedder()).fit(training, progress=True)
    assert f"embedding {training.n_items} items with text-length" in capfd.readouterr().err


@pytest.mark.parametrize("model", [EASE, SASRec])
def test_progress_never_changes_a_result(model, training, validation):
    params = SMALL_SASREC if model is SASRec else {}
    users = training.user_ids[:5].tolist()
    quiet = model(**params).fit(training, validation=validation).score(users)
    shown = model(**params).fit(training, validation=validation, progress=True).score(users)
    np.testing.assert_array_equal(quiet, shown)


@pytest.mark.parametrize(
    ("done", "elapsed", "bound"),
    [(1, 10.0, 30), (10, 100.0, 30), (5, 400.0, 5), (1, 0.5, 200)],
)
def test_the_epoch_bar_ends_where_the_time_cap_would(done, elapsed, bound):
    assert _epoch_bound(200, 300.0, done, elapsed) == bound
