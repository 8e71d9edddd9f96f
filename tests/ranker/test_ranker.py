"""The calibrated ranker: probabilities over the unseen catalogue, learned from held-out next items, saved
as JSON and reused only for the generators it was fitted on."""

import json

import numpy as np
import pytest

from pagegen.errors import ArtifactError
from pagegen.generators import Validation, build_training_data
from pagegen.ranker import feature_names, fit_ranker
from pagegen.ranker.calibrated import load_ranker, log_softmax_unseen, save_ranker
from pagegen.ranking import calibration_error
from tests.factories import make_dataset

ITEMS = 12


class Planted:
    """A stand-in generator whose scores are given per history (keyed by the history's items)."""

    def __init__(self, table: dict[tuple[int, ...], np.ndarray]) -> None:
        self.table = table

    def score_histories(self, histories):
        return np.stack([self.table[tuple(h.tolist())] for h in histories]).astype(np.float32)


@pytest.fixture
def data(tmp_path):
    rows = [(u, i, 4.0, 100 * u + i) for u in range(1, 9) for i in range(1, ITEMS + 1) if (u + i) % 3]
    dataset = make_dataset(tmp_path, "tiny", rows, n_items=ITEMS)
    return build_training_data(dataset, dataset.interactions, split="all")


def test_the_ranker_learns_which_generator_foretells_the_next_item(data):
    # Each user's next item is the unseen item "ease" scores highest; "popularity" scores are noise.
    rng = np.random.default_rng(0)
    histories, targets, ease, noise = [], [], {}, {}
    while len(histories) < 40:
        history = rng.choice(ITEMS, size=int(rng.integers(1, 4)), replace=False)
        key = tuple(history.tolist())
        if key in ease:
            continue  # one history, one set of scores
        scores = rng.normal(size=ITEMS)
        target = int(rng.choice(np.setdiff1d(np.arange(ITEMS), history)))
        scores[target] = scores.max() + 1.0
        ease[key], noise[key] = scores, rng.normal(size=ITEMS)
        histories.append(history)
        targets.append(target)
    generators = {"ease": Planted(ease), "popularity": Planted(noise)}
    ranker = fit_ranker(generators, data, Validation(histories, np.array(targets)))
    weights = dict(zip(ranker.weights.names, ranker.weights.weights, strict=True))
    assert ranker.weights.names == feature_names(("ease", "popularity"))
    assert weights["score:ease"] + weights["rank:ease"] > abs(weights["score:popularity"]) + abs(
        weights["rank:popularity"]
    )
    raw = {name: g.score_histories(histories) for name, g in generators.items()}
    probability = ranker.probabilities(raw, histories)
    assert probability.sum(axis=1) == pytest.approx(np.ones(len(histories)))  # a distribution per user
    assert all(probability[u, h].sum() == 0 for u, h in enumerate(histories))  # seen items impossible
    assert np.mean(probability[np.arange(len(histories)), targets]) > 0.5  # far above ~1/10, a uniform guess


def test_log_softmax_over_unseen_items_known_answer():
    # logits 0, ln 2, ln 3 with the first item seen: the other two share 2 : 3
    log_p = log_softmax_unseen(np.array([[0.0, np.log(2), np.log(3)]]), [np.array([0])])
    assert np.exp(log_p)[0].tolist() == pytest.approx([0.0, 2 / 5, 3 / 5])


def test_calibration_error_known_answer():
    # Two bins of two: predicted means 0.15 and 0.7, observed 0 and 1: |0.15 − 0| · ½ + |0.7 − 1| · ½.
    predicted = np.array([0.1, 0.2, 0.6, 0.8])
    observed = np.array([0.0, 0.0, 1.0, 1.0])
    assert calibration_error(predicted, observed, bins=2) == pytest.approx(0.5 * 0.15 + 0.5 * 0.3)
    assert calibration_error(np.array([0.5, 0.5]), np.array([1.0, 0.0]), bins=1) == 0.0


def test_a_saved_ranker_is_reused_only_for_its_generators(data, tmp_path):
    rng = np.random.default_rng(1)
    histories = [np.array([k]) for k in range(10)]
    table = {(k,): rng.normal(size=ITEMS) for k in range(10)}
    generators = {"ease": Planted(table)}
    targets = np.array([(k + 1) % ITEMS for k in range(10)])
    ranker = fit_ranker(generators, data, Validation(histories, targets))
    path = tmp_path / "ranker.json"
    provenance = {"dataset": "tiny", "generators": {"ease": "abc"}}
    save_ranker(ranker, path, provenance)
    loaded = load_ranker(path, generators, data, provenance)
    assert loaded is not None and loaded.weights == ranker.weights
    assert load_ranker(path, generators, data, {**provenance, "generators": {"ease": "other"}}) is None
    assert load_ranker(tmp_path / "missing.json", generators, data, provenance) is None
    path.write_text(json.dumps({"fitted_on": provenance, "weights": {"names": []}}))
    with pytest.raises(ArtifactError, match=r"ranker\.json is corrupted"):
        load_ranker(path, generators, data, provenance)
