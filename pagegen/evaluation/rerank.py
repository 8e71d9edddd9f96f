"""Does the language model's reordering help? EASE's top candidates ranked as EASE orders them and as
the model reorders them, on the same leave-last-out test users, whatever the numbers turn out to be."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pagegen.data import load_dataset
from pagegen.data import schema as S
from pagegen.generators import EASE, artifacts
from pagegen.generators.experiments import leave_last_out_experiment
from pagegen.llm.backends import Backend
from pagegen.llm.rerank import rerank
from pagegen.ranking import ndcg_at_k, recall_at_k
from pagegen.seeding import as_generator

CUTOFF = 10


@dataclass(frozen=True)
class RerankReport:
    dataset: str
    backend: str
    users: int
    candidates: int
    answers_used: int
    seconds: float
    ease_ndcg: float
    ease_hr: float
    llm_ndcg: float
    llm_hr: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, metric keys spelled with their cut-off (``ease_ndcg@10``)."""
        fields = asdict(self)
        for name in ("ease_ndcg", "ease_hr", "llm_ndcg", "llm_hr"):
            fields[f"{name}@{CUTOFF}"] = fields.pop(name)
        return fields


def format_rerank(report: RerankReport) -> str:
    return (
        f"zero-shot reranking of EASE's top {report.candidates} by {report.backend} on {report.users} users "
        f"({report.answers_used} answers used, {report.seconds} s)\n"
        f"EASE order: NDCG@{CUTOFF} {report.ease_ndcg:.4f}, HR@{CUTOFF} {report.ease_hr:.4f}\n"
        f"LLM order:  NDCG@{CUTOFF} {report.llm_ndcg:.4f}, HR@{CUTOFF} {report.llm_hr:.4f}"
    )


def evaluate_rerank(
    data_dir: Path, dataset: str, backend: Backend, *, sample: int = 50, candidates: int = 20, seed: int = 0
) -> RerankReport:
    """NDCG and HR at 10 of EASE's top ``candidates`` in EASE's order and in the model's order, on the
    same ``sample`` test users. A target outside the candidates ranks below all of them."""
    experiment = leave_last_out_experiment(load_dataset(dataset, data_dir))
    ease, _ = artifacts.load_or_train(EASE, data_dir, experiment.train, validation=experiment.validation)
    serving, test = experiment.serving, experiment.test
    titles = serving.catalogue[S.TITLE].to_list()
    rows = as_generator(seed).choice(len(test.targets), size=min(sample, len(test.targets)), replace=False)
    ranks: dict[str, list[int]] = {"ease": [], "llm": []}
    used = 0
    started = time.perf_counter()
    for row in sorted(int(r) for r in rows):
        history = test.histories[row]
        top = ease.recommend_for_history(history, candidates)
        items = [serving.item_index(int(i)) for i in top[S.ITEM_ID].to_list()]
        order, answered = rerank(backend, [titles[i] for i in history], [titles[i] for i in items])
        used += answered
        target = int(test.targets[row])
        for name, ranked in (("ease", items), ("llm", [items[p] for p in order])):
            ranks[name].append(ranked.index(target) + 1 if target in ranked else len(ranked) + 1)
    ease_ranks, llm_ranks = np.array(ranks["ease"]), np.array(ranks["llm"])
    return RerankReport(
        dataset=dataset,
        backend=backend.name,
        users=len(rows),
        candidates=candidates,
        answers_used=used,
        seconds=round(time.perf_counter() - started, 1),
        ease_ndcg=round(ndcg_at_k(ease_ranks, CUTOFF), 4),
        ease_hr=round(recall_at_k(ease_ranks, CUTOFF), 4),
        llm_ndcg=round(ndcg_at_k(llm_ranks, CUTOFF), 4),
        llm_hr=round(recall_at_k(llm_ranks, CUTOFF), 4),
    )
