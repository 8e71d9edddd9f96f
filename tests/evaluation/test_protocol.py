"""The leave-last-out and cold-start protocols, checked with generators whose answers we control."""

from typing import ClassVar

import numpy as np
import pytest

from pagegen.evaluation import EvaluationReport, evaluate_cold_start, evaluate_ranking, format_evaluation
from pagegen.evaluation.protocol import GENERATORS_REPORT, load_evaluation, save_evaluation
from pagegen.evaluation.reports import save_report
from pagegen.generators import Popularity
from pagegen.generators.base import Generator
from pagegen.generators.experiments import cold_start_experiment, leave_last_out_experiment
from tests.factories import make_dataset


class Oracle(Generator):
    """Scores each user's next item in the cycle 1 → 2 → … highest: a perfect sequential model."""

    name: ClassVar[str] = "oracle"

    def _fit(self, data, validation, progress):
        pass

    def _score(self, histories):
        scores = np.zeros((len(histories), self.data.n_items), dtype=np.float32)
        for row, history in enumerate(histories):
            scores[row, (history[-1] + 1) % self.data.n_items] = 1.0
        return scores

    def _state(self):
        return {}

    def _restore(self, state, data):
        pass


@pytest.fixture
def cycle_dataset(tmp_path):
    rows = [(user, (user + step) % 10 + 1, 4.0, step) for user in range(1, 21) for step in range(6)]
    return make_dataset(tmp_path, "cycle", rows, n_items=10)


def test_test_histories_include_the_validation_item(cycle_dataset):
    experiment = leave_last_out_experiment(cycle_dataset)
    user_rows = experiment.train.user_ids.tolist()
    first = user_rows.index(1)
    assert len(experiment.validation.histories[first]) == 4 and len(experiment.test.histories[first]) == 5
    assert experiment.test.histories[first][-1] == experiment.validation.targets[first]
    assert experiment.serving.history(1).tolist() == experiment.test.histories[first].tolist()


def test_a_perfect_model_scores_one_and_popularity_does_not(cycle_dataset):
    experiment = leave_last_out_experiment(cycle_dataset)
    oracle = Oracle().fit(experiment.train)
    metrics, seconds = evaluate_ranking(oracle, experiment.test)
    assert metrics["recall@10"] == metrics["ndcg@10"] == metrics["mrr@10"] == 1.0
    assert seconds > 0
    flat = Popularity().fit(experiment.train)
    assert evaluate_ranking(flat, experiment.test)[0]["ndcg@10"] < 1.0


def test_cold_start_ranks_only_new_items(cycle_dataset):
    experiment = cold_start_experiment(cycle_dataset, fraction=0.2)
    assert len(experiment.cold_items) == 2
    assert all(set(t.tolist()) <= set(experiment.cold_items.tolist()) for t in experiment.targets)
    train_items = set(experiment.train.items.tolist())
    assert not train_items & set(experiment.cold_items.tolist())
    metrics, _ = evaluate_cold_start(Popularity().fit(experiment.train), experiment, ks=(1, 2))
    # Popularity gives every new item 0: both tie, so neither counts as found at k=1; at k=2 all are.
    assert metrics == {"cold_recall@1": 0.0, "cold_recall@2": 1.0}


def test_evaluation_table():
    ease = EvaluationReport("ease", "ml-100k", "leave_last_out", 943, {"ndcg@10": 0.05, "hr@10": 0.1}, 1.5, 0.25)
    assert format_evaluation([ease]).splitlines() == [
        "ml-100k · leave_last_out · 943 users",
        "model          ndcg@10     hr@10    fit s  score s",
        "ease            0.0500    0.1000     1.50    0.250",
    ]


def test_saved_generator_evaluation_reads_back_as_reports(tmp_path):
    ease = EvaluationReport("ease", "synth", "leave-last-out", 5, {"ndcg@10": 0.2}, 1.0, 0.1, {"l2": 300.0})
    save_evaluation(tmp_path, "synth", [ease])
    assert load_evaluation(tmp_path, "synth") == (ease,)
    save_report(tmp_path, "synth", GENERATORS_REPORT, {"reports": [{"model": "ease"}]})  # another version's shape
    assert load_evaluation(tmp_path, "synth") is None
    assert load_evaluation(tmp_path, "other") is None
