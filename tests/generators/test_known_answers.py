"""Each generator on data whose right answer is obvious."""

import numpy as np
import pytest
import torch

from pagegen.errors import ConfigError, ModelFitError
from pagegen.generators import EASE, Popularity, SASRec, Trending, Validation, build_training_data
from pagegen.generators import ease as ease_module
from pagegen.generators.sasrec import _loss_for
from tests.factories import make_dataset


def test_ease_recovers_cooccurrence(cooccurrence):
    data = build_training_data(cooccurrence, cooccurrence.interactions, split="all")
    model = EASE(l2=1.0).fit(data)
    assert model.similar(1, k=1)["item_id"].to_list() == [2]
    assert model.similar(3, k=1)["item_id"].to_list() == [4]
    history = data.item_indices([1])
    assert model.recommend_for_history(history, k=1)["item_id"].to_list() == [2]


def test_ease_weights_and_scores_match_the_dense_closed_form(tmp_path):
    """B = I − P·diag(1/diag P), P = (XᵀX + λI)⁻¹, computed here in float64 on a 5-user × 5-item X whose
    last item nobody watched; pagegen's weights, similar_scores and history scores must be B and X_u·B."""
    X = np.array(
        [
            [1, 1, 0, 0, 0],
            [1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0],
            [0, 0, 1, 1, 0],
            [1, 0, 0, 1, 0],
        ],
        dtype=np.float64,
    )
    rows = [(u + 1, i + 1, 4.0, 10 * u + i) for u, i in zip(*np.nonzero(X), strict=True)]
    rows.append((1, 1, 3.0, 99))  # a repeat counts once: X stays binary
    dataset = make_dataset(tmp_path, "dense", rows, n_items=5)
    data = build_training_data(dataset, dataset.interactions, split="all")
    np.testing.assert_array_equal(data.matrix.toarray(), X)
    l2 = 2.0
    P = np.linalg.inv(X.T @ X + l2 * np.eye(5))
    B = np.eye(5) - P / np.diag(P)[None, :]
    np.testing.assert_allclose(np.diag(B), 0.0, atol=1e-12)  # the closed form's zero diagonal

    model = EASE(l2=l2).fit(data)
    np.testing.assert_allclose(model.weights, B, rtol=1e-5, atol=1e-6)
    for index in range(5):
        np.testing.assert_allclose(model.similar_scores(index), B[index], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.similar_scores(4), np.zeros(5))  # an unwatched item predicts nothing
    histories = [data.item_indices([1, 3]), data.item_indices([2]), data.item_indices([1, 2, 3, 4])]
    expected = np.stack([X_u @ B for X_u in np.array([[1, 0, 1, 0, 0], [0, 1, 0, 0, 0], [1, 1, 1, 1, 0]])])
    np.testing.assert_allclose(model.score_histories(histories), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.score([1, 4]), X[[0, 3]] @ B, rtol=1e-5, atol=1e-6)


def test_ease_chooses_l2_on_validation(cooccurrence):
    data = build_training_data(cooccurrence, cooccurrence.interactions, split="all")
    validation = Validation(
        histories=[data.item_indices([1]), data.item_indices([3])], targets=data.item_indices([2, 4])
    )
    model = EASE(l2_grid=[1.0, 10.0]).fit(data, validation=validation)
    assert model.validation_ndcg == {1.0: 1.0, 10.0: 1.0}  # both put the partner item first
    assert model.l2 == 1.0  # a tie goes to the smaller λ
    assert EASE().fit(data).l2 == EASE.defaults["default_l2"]  # no validation: the documented default


def test_ease_refuses_a_catalogue_that_does_not_fit_in_memory(cooccurrence, monkeypatch):
    data = build_training_data(cooccurrence, cooccurrence.interactions, split="all")

    class Tiny:
        available = 1024

    monkeypatch.setattr(ease_module.psutil, "virtual_memory", lambda: Tiny())
    with pytest.raises(ModelFitError, match=r"EASE on 12 items needs about .* GiB .* only 0\.0 GiB is available"):
        EASE().fit(data)


def test_ease_fits_only_the_most_watched_items_beyond_max_items(tmp_path):
    """Watched by 3, 1, 2, 2, 0 and 3 users: the 3 most-watched are indices 0 and 5 (3 each) and 2 (of the
    two watched twice, the lower index). The fit is the closed form on those columns; every other item
    scores below all of them, knows no neighbours, and a saved model restores its subset."""
    X = np.array([[1, 1, 0, 0, 0, 1], [1, 0, 1, 0, 0, 1], [1, 0, 0, 1, 0, 1], [0, 0, 1, 1, 0, 0]], dtype=np.float64)
    rows = [(u + 1, i + 1, 4.0, 10 * u + i) for u, i in zip(*np.nonzero(X), strict=True)]
    dataset = make_dataset(tmp_path, "subset", rows, n_items=6)
    data = build_training_data(dataset, dataset.interactions, split="all")
    fitted = [0, 2, 5]
    kept = X[:, fitted]
    P = np.linalg.inv(kept.T @ kept + 2.0 * np.eye(3))
    B = np.eye(3) - P / np.diag(P)[None, :]

    model = EASE(l2=2.0, max_items=3).fit(data)
    np.testing.assert_array_equal(model.fitted_items, fitted)
    np.testing.assert_allclose(model.weights, B, rtol=1e-5, atol=1e-6)
    assert model.fit_note == (
        "fitted the 3 most-watched of 6 items (all of them would need 0.0 GiB of dense matrices); "
        "the others get no EASE score"
    )
    scores = model.score_histories([data.item_indices([1, 4])])[0]  # indices 0 (fitted) and 3 (not)
    np.testing.assert_allclose(scores[fitted], B[0], rtol=1e-5, atol=1e-6)
    others = [1, 3, 4]
    assert (scores[others] < scores[fitted].min()).all() and len(set(scores[others].tolist())) == 1
    assert [model.has_neighbours(i) for i in range(6)] == [True, False, True, False, False, True]
    np.testing.assert_array_equal(model.similar_scores(3), np.zeros(6))
    np.testing.assert_allclose(model.similar_scores(5)[fitted], B[2], rtol=1e-5, atol=1e-6)

    restored = EASE.restore(model.params, model.state(), data)
    np.testing.assert_array_equal(restored.fitted_items, fitted)
    np.testing.assert_array_equal(restored.score_histories([data.item_indices([1, 4])])[0], scores)


def test_ease_within_max_items_fits_the_whole_catalogue(cooccurrence):
    data = build_training_data(cooccurrence, cooccurrence.interactions, split="all")
    whole, capped_above = EASE(l2=3.0).fit(data), EASE(l2=3.0, max_items=data.n_items).fit(data)
    np.testing.assert_array_equal(whole.weights, capped_above.weights)
    assert whole.fit_note is None and all(whole.has_neighbours(i) for i in range(data.n_items))
    with pytest.raises(ConfigError, match="max_items must be at least 2, got 1"):
        EASE(max_items=1)


def test_popularity_ranks_by_count_and_trending_by_recency(tmp_path):
    day = 86_400
    rows = [(u, 1, 4.0, 0) for u in range(1, 6)]  # item 1: five users, a year ago
    rows += [(u, 2, 4.0, 365 * day) for u in range(1, 4)]  # item 2: three users, today
    rows += [(9, 3, 4.0, 0)]
    dataset = make_dataset(tmp_path, "pop", rows, n_items=4)
    data = build_training_data(dataset, dataset.interactions, split="all")
    assert Popularity().fit(data).recommend_for_history(np.array([], dtype=np.int32), k=3)["item_id"].to_list() == [
        1,
        2,
        3,
    ]
    assert Trending().fit(data).recommend_for_history(np.array([], dtype=np.int32), k=2)["item_id"].to_list() == [2, 1]
    popularity = Popularity().fit(data).popularity
    assert popularity[0] == pytest.approx(np.log1p(5)) and popularity[3] == 0.0


def test_popular_in_genre(tmp_path):
    genres = [["Sci-Fi"], ["Drama"], ["Sci-Fi", "Drama"], ["Comedy"]]
    rows = [(u, i, 4.0, u) for u in range(1, 5) for i in (1, 2, 3) if u <= i + 1]
    dataset = make_dataset(tmp_path, "genres", rows, n_items=4, genres=genres)
    model = Popularity().fit(build_training_data(dataset, dataset.interactions, split="all"))
    assert model.popular_in_genre("Sci-Fi", k=5)["item_id"].to_list() == [3, 1]
    with pytest.raises(ConfigError, match=r"no item has genre 'Western'; genres: Comedy, Drama, Sci-Fi"):
        model.popular_in_genre("Western")


def test_sasrec_learns_a_deterministic_sequence(tmp_path):
    """Every user walks the catalogue in the same cycle 1 → 2 → … → 8 → 1: the next item is certain."""
    cycle = 8
    rows = []
    for user in range(1, 41):
        start = user % cycle
        rows += [(user, (start + step) % cycle + 1, 4.0, step) for step in range(12)]
    dataset = make_dataset(tmp_path, "cycle", rows, n_items=cycle)
    data = build_training_data(dataset, dataset.interactions, split="all")
    model = SASRec(
        hidden=32, layers=1, heads=1, max_len=10, dropout=0.0, learning_rate=0.01, max_epochs=40, seed=1
    ).fit(data)
    for last in range(1, cycle + 1):
        history = data.item_indices([(last - 3) % cycle + 1, (last - 2) % cycle + 1, last])
        top = model.recommend_for_history(history, k=1, exclude_seen=False)
        assert top["item_id"].to_list() == [last % cycle + 1]


def test_sasrec_is_deterministic_for_a_seed(training):
    params = {"hidden": 16, "layers": 1, "heads": 1, "max_len": 10, "max_epochs": 2, "seed": 3}
    first = SASRec(**params).fit(training).score(training.user_ids[:3].tolist())
    second = SASRec(**params).fit(training).score(training.user_ids[:3].tolist())
    np.testing.assert_array_equal(first, second)


def test_sasrec_gbce_and_early_stopping(training):
    validation = Validation(
        histories=[training.history(int(u))[:-1] for u in training.user_ids],
        targets=np.array([training.history(int(u))[-1] for u in training.user_ids]),
    )
    model = SASRec(hidden=16, layers=1, heads=1, max_len=10, max_epochs=30, patience=2, loss="gbce", negatives=8).fit(
        training, validation=validation
    )
    curve = [epoch["val_ndcg@10"] for epoch in model.history]
    best_epoch = curve.index(max(curve)) + 1
    assert model.best_validation_ndcg == max(curve)
    assert model.epochs_run == min(30, best_epoch + 2)  # stops `patience` epochs after the best


def test_sasrec_auto_loss_samples_negatives_only_on_a_large_catalogue():
    assert [_loss_for("auto", n) for n in (1682, 5000, 5001, 20_000)] == ["ce", "ce", "gbce", "gbce"]
    assert _loss_for("ce", 20_000) == "ce" and _loss_for("gbce", 10) == "gbce"  # asked for: kept


def test_validation_spread_keeps_evenly_spaced_histories():
    validation = Validation(histories=[np.array([i]) for i in range(10)], targets=np.arange(10) + 100)
    assert validation.spread(10) is validation
    picked = validation.spread(4)  # positions 0, 3, 6, 9 (linspace 0 … 9 in 4 steps)
    assert [int(h[0]) for h in picked.histories] == [0, 3, 6, 9] and picked.targets.tolist() == [100, 103, 106, 109]


def test_sasrec_rejects_unknown_loss_and_missing_gpu(training, monkeypatch):
    with pytest.raises(ConfigError, match="sasrec parameter loss must be 'auto', 'ce' or 'gbce', got 'hinge'"):
        SASRec(loss="hinge")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # checked on a machine with a GPU too
    with pytest.raises(
        ConfigError, match=r"^--device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu$"
    ):
        SASRec(device="cuda").fit(training)
