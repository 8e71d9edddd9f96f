"""One suite, every generator: the promises of the Generator contract."""

import numpy as np
import pytest

from pagegen.errors import ArtifactError, ConfigError, NotFittedError, UnknownItemError, UnknownUserError
from pagegen.generators import GENERATORS, artifacts, build_training_data
from pagegen.vocabulary import GENERATOR_NAMES

FAST = {"sasrec": {"max_epochs": 2, "hidden": 16, "layers": 1, "heads": 1, "max_len": 10}}


def _make(name, **extra):
    return GENERATORS[name](**{**FAST.get(name, {}), **extra})


@pytest.fixture(params=sorted(GENERATORS))
def name(request):
    return request.param


def test_scores_cover_the_catalogue_and_are_finite(name, training):
    generator = _make(name).fit(training)
    users = training.user_ids[:5].tolist()
    scores = generator.score(users)
    assert scores.shape == (5, training.n_items) and scores.dtype == np.float32
    assert np.isfinite(scores).all()


def test_recommend_excludes_seen_and_is_ordered(name, training):
    generator = _make(name).fit(training)
    user = int(training.user_ids[0])
    top = generator.recommend(user, k=5)
    assert top.height == 5 and top["rank"].to_list() == [1, 2, 3, 4, 5]
    assert top["score"].is_sorted(descending=True)
    seen = set(training.item_ids[training.history(user)].tolist())
    assert not seen & set(top["item_id"].to_list())
    assert generator.recommend(user, k=5, exclude_seen=False).height == 5


def test_empty_history_gets_the_documented_fallback(name, training):
    """No history: popularity keeps its global ranking; the personal models give all zeros (no signal)."""
    generator = _make(name).fit(training)
    scores = generator.score_histories([np.array([], dtype=np.int32)])[0]
    if name in ("popularity", "trending"):
        np.testing.assert_array_equal(scores, generator.popularity)
    else:
        np.testing.assert_array_equal(scores, np.zeros(training.n_items, dtype=np.float32))


def test_bad_requests_name_the_problem(name, training):
    with pytest.raises(NotFittedError, match=f"model '{name}' is not fitted"):
        _make(name).score([1])
    generator = _make(name).fit(training)
    with pytest.raises(UnknownUserError, match="unknown user 999999"):
        generator.recommend(999_999)
    with pytest.raises(ConfigError, match="k must be a positive number"):
        generator.recommend(int(training.user_ids[0]), k=0)
    with pytest.raises(ConfigError, match=f"{name} does not take parameter\\(s\\) colour"):
        GENERATORS[name](colour="red")


def test_save_load_round_trip(name, training, tmp_path):
    generator = _make(name).fit(training)
    artifacts.save(generator, tmp_path)
    loaded = artifacts.load(GENERATORS[name], tmp_path, training)
    users = training.user_ids[:4].tolist()
    np.testing.assert_allclose(loaded.score(users), generator.score(users), rtol=1e-5, atol=1e-6)


def test_artifact_from_other_data_is_refused(name, training, synthetic, tmp_path):
    artifacts.save(_make(name).fit(training), tmp_path)
    other_split = build_training_data(synthetic, synthetic.interactions.head(500), split="half")
    with pytest.raises(ArtifactError, match=f"no saved {name} model"):
        artifacts.load(GENERATORS[name], tmp_path, other_split)
    relabelled = build_training_data(synthetic, synthetic.interactions, split="all")
    object.__setattr__(relabelled, "fingerprint", "0000000000000000")
    with pytest.raises(ArtifactError, match="trained with dataset fingerprint"):
        artifacts.load(GENERATORS[name], tmp_path, relabelled)
    generator, _ = artifacts.load_or_train(
        GENERATORS[name], tmp_path, relabelled, validation=None, params=FAST.get(name)
    )
    assert generator.fitted  # retrained rather than reused


def test_corrupted_artifact_is_an_error_and_kept(name, training, tmp_path):
    artifacts.save(_make(name).fit(training), tmp_path)
    arrays_path, _ = artifacts.artifact_paths(tmp_path, training, name)
    arrays_path.write_bytes(arrays_path.read_bytes()[:40])
    with pytest.raises(ArtifactError, match="is corrupted"):
        artifacts.load(GENERATORS[name], tmp_path, training)
    with pytest.raises(ArtifactError, match="is corrupted"):
        artifacts.load_or_train(GENERATORS[name], tmp_path, training, validation=None, params=FAST.get(name))
    assert arrays_path.exists()


ITEM_TO_ITEM = {"ease": True, "content": True, "sasrec": False, "popularity": False, "trending": False}


def test_similar_where_supported(name, training):
    generator = _make(name).fit(training)
    item = int(training.item_ids[0])
    assert generator.supports_similar is ITEM_TO_ITEM[name]
    if ITEM_TO_ITEM[name]:
        top = generator.similar(item, k=3)
        assert top.height == 3 and item not in top["item_id"].to_list()
        with pytest.raises(UnknownItemError, match="unknown item 424242"):
            generator.similar(424242)
        scores = generator.similar_scores(0)
        assert scores.shape == (training.n_items,) and scores.dtype == np.float32
        scores[:] = 0  # a fresh array: changing it changes nothing the generator keeps
        assert generator.similar(item, k=3).equals(top)
        with pytest.raises(ConfigError, match=f"item index {training.n_items} is outside"):
            generator.similar_scores(training.n_items)
    else:
        for ask in (lambda: generator.similar(item), lambda: generator.similar_scores(0)):
            with pytest.raises(ConfigError, match=f"{name} has no item-to-item similarity"):
                ask()


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ease", {"l2": "abc"}, "ease parameter l2 must be a number or null, got 'abc'"),
        ("ease", {"l2": -1.0}, "ease parameter l2 must be positive, got -1.0"),
        ("ease", {"l2_grid": 100}, "ease parameter l2_grid must be a non-empty list of numbers, got 100"),
        ("trending", {"half_life_days": "x"}, "trending parameter half_life_days must be a number, got 'x'"),
        ("sasrec", {"hidden": 30, "heads": 4}, r"sasrec parameter hidden \(30\) must be a multiple of heads \(4\)"),
        ("sasrec", {"device": "tpu"}, "sasrec parameter device must be cpu or cuda"),
        ("sasrec", {"max_epochs": 0}, "sasrec parameter max_epochs must be at least 1, got 0"),
        ("content", {"recent": 0}, "content parameter recent must be at least 1, got 0"),
        ("content", {"embedder": "word2vec"}, "content parameter embedder must be 'minilm' or 'ollama'"),
    ],
)
def test_parameters_are_checked_when_set(name, params, message):
    with pytest.raises(ConfigError, match=message):
        GENERATORS[name](**params)


def test_failed_refit_leaves_the_generator_unfitted(training, monkeypatch):
    generator = GENERATORS["ease"]().fit(training)
    monkeypatch.setattr(generator, "_fit", lambda *args: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        generator.fit(training)
    assert not generator.fitted


def test_a_tuned_model_is_reused_without_parameters_and_replaced_with_other_ones(training, tmp_path):
    from pagegen.generators import EASE

    artifacts.load_or_train(EASE, tmp_path, training, validation=None, params={"l2": 7.0})
    reused, manifest = artifacts.load_or_train(EASE, tmp_path, training, validation=None)
    assert reused.params["l2"] == 7.0 and manifest["params"]["l2"] == 7.0
    other, manifest = artifacts.load_or_train(EASE, tmp_path, training, validation=None, params={"l2": 9.0})
    assert other.l2 == 9.0 and manifest["params"]["l2"] == 9.0


def test_runtime_settings_do_not_force_a_retrain(training, tmp_path):
    from pagegen.generators import SASRec

    params = {**FAST["sasrec"], "device": "cpu"}
    artifacts.load_or_train(SASRec, tmp_path, training, validation=None, params=params)
    saved_at = artifacts.read_manifest(tmp_path, training, "sasrec")["saved_at"]
    _, manifest = artifacts.load_or_train(
        SASRec, tmp_path, training, validation=None, params={**params, "device": "cuda"}
    )
    assert manifest["saved_at"] == saved_at  # loaded, not refitted for a device change


def test_the_vocabulary_names_every_generator_in_order():
    """The CLI lists ``GENERATOR_NAMES`` without importing the models (torch): they must agree."""
    assert tuple(GENERATORS) == GENERATOR_NAMES
