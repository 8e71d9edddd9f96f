#!/usr/bin/env python
"""The ranker's alternative, measured: LightGBM LambdaMART on the calibrated ranker's own features.

Fits on the validation split's held-out items over the union of EASE's and SASRec's top 100 unseen
items per user (the candidates a two-stage ranker would rerank), and ranks the test split's held-out
item among the same kind of candidates (a held-out item outside them counts as a miss). Prints one JSON
object per setting: NDCG@10 and Recall@20 on the test split, beside the conditional logit that pagegen
ships (`pagegen evaluate --model ranker`). Needs the dataset's generators trained (`make models`) and
`pip install lightgbm==4.7.0` in pagegen's environment; lightgbm is not a pagegen dependency.

    .venv/bin/pip install lightgbm==4.7.0 && .venv/bin/python bench/ranker_lambdamart.py
"""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np

from pagegen import data
from pagegen.generators import Validation, artifacts, generator_class
from pagegen.generators.experiments import leave_last_out_experiment
from pagegen.ranker.features import RANKED_GENERATORS, ItemTable, features
from pagegen.ranking import ndcg_at_k, recall_at_k

CANDIDATES = 100  # each of EASE's and SASRec's top items per user
SETTINGS = (
    {"num_leaves": 7, "min_data_in_leaf": 50, "learning_rate": 0.05, "rounds": 200},
    {"num_leaves": 15, "min_data_in_leaf": 20, "learning_rate": 0.05, "rounds": 400},
)


def candidate_features(generators, items: ItemTable, held_out: Validation):
    """Per user: the candidates' feature rows and which of them is the held-out item."""
    rows, labels = [], []
    for start in range(0, len(held_out.histories), 256):
        histories = held_out.histories[start : start + 256]
        raw = {name: generators[name].score_histories(histories) for name in RANKED_GENERATORS}
        x = features(raw, histories, RANKED_GENERATORS, items)
        for u, history in enumerate(histories):
            union: set[int] = set()
            for name in ("ease", "sasrec"):
                scores = raw[name][u].copy()
                scores[history] = -np.inf
                union |= set(np.argsort(-scores)[:CANDIDATES].tolist())
            candidates = np.array(sorted(union))
            rows.append(x[u, candidates])
            labels.append((candidates == held_out.targets[start + u]).astype(int))
    return rows, labels


def main(dataset: str = "ml-100k", data_dir: Path = Path("data")) -> None:
    experiment = leave_last_out_experiment(data.load_dataset(dataset, data_dir))
    generators = {
        name: artifacts.load_or_train(
            generator_class(name), data_dir, experiment.train, validation=experiment.validation
        )[0]
        for name in RANKED_GENERATORS
    }
    items = ItemTable.of(experiment.train)
    train_x, train_y = candidate_features(generators, items, experiment.validation)
    test_x, test_y = candidate_features(generators, items, experiment.test)
    for setting in SETTINGS:
        params = {k: v for k, v in setting.items() if k != "rounds"}
        model = lgb.train(
            {"objective": "lambdarank", "verbose": -1, "seed": 0, "deterministic": True, "num_threads": 1, **params},
            lgb.Dataset(np.concatenate(train_x), np.concatenate(train_y), group=[len(y) for y in train_y]),
            num_boost_round=setting["rounds"],
        )
        ranks = []
        for x, y in zip(test_x, test_y, strict=True):
            if not y.any():
                ranks.append(10**9)  # the held-out item is not among the candidates
                continue
            scores = model.predict(x)
            target = scores[y == 1][0]
            ranks.append(int((scores >= target).sum()))  # ties count against the target
        ranks = np.array(ranks)
        print(json.dumps({
            **setting, "positives": int(sum(y.sum() for y in train_y)),
            "ndcg@10": round(ndcg_at_k(ranks, 10), 5), "recall@20": round(recall_at_k(ranks, 20), 5),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
