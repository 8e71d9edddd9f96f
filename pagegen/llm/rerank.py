"""Zero-shot ranking (Hou et al. 2023, "Large language models are zero-shot rankers"): the model sees
the titles a user watched, most recent last, and a numbered candidate list, and answers with the
numbers in its preferred order. Candidates are given explicitly so it cannot invent items; the answer
is parsed leniently (a JSON object, a list, or bare numbers), unknown or repeated numbers are dropped,
and candidates the model leaves out keep their original order after the ones it ranked."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pagegen.data import schema as S
from pagegen.llm.backends import Backend, BackendError

HISTORY_TITLES = 10
RANKING_SCHEMA = {
    "type": "object",
    "properties": {"ranking": {"type": "array", "items": {"type": "integer"}}},
    "required": ["ranking"],
}


def ranking_prompt(history: Sequence[str], candidates: Sequence[str]) -> str:
    watched = "\n".join(f"- {json.dumps(title)}" for title in history[-HISTORY_TITLES:])
    listed = "\n".join(f"[{number}] {json.dumps(title)}" for number, title in enumerate(candidates, start=1))
    return (
        f"A viewer watched these films, most recent last:\n{watched}\n\n"
        f"Rank these {len(candidates)} candidate films by how likely the viewer is to watch each next.\n"
        f"{listed}\n\n"
        'Answer with JSON like {"ranking": [3, 1, 2]}: every candidate number once, most likely first.\n'
    )


def parse_ranking(answer: object, count: int) -> list[int]:
    """Candidate positions (0-based) in the model's order; missing ones appended in original order."""
    if isinstance(answer, dict):
        answer = answer.get("ranking", [])
    numbers = answer if isinstance(answer, list) else re.findall(r"\d+", str(answer))
    order: list[int] = []
    for number in numbers:
        try:
            position = int(number) - 1
        except (TypeError, ValueError):
            continue
        if 0 <= position < count and position not in order:
            order.append(position)
    return order + [position for position in range(count) if position not in order]


def rerank(
    backend: Backend, history: Sequence[str], candidates: Sequence[str], *, seconds: float = 60.0
) -> tuple[list[int], bool]:
    """The candidates' positions in the model's order, and whether the model's answer was used (False:
    it failed, and the original order stands)."""
    prompt = ranking_prompt(history, candidates)
    try:
        answer = backend.generate_json(prompt, RANKING_SCHEMA, deadline=time.perf_counter() + seconds)
    except BackendError:
        return list(range(len(candidates))), False
    return parse_ranking(answer, len(candidates)), True


def evaluate_rerank(
    data_dir: Path, dataset: str, backend: Backend, *, sample: int = 50, candidates: int = 20, seed: int = 0
) -> dict[str, Any]:
    """NDCG@10 and HR@10 of EASE's top ``candidates`` as EASE orders them and as the model reorders
    them, on the same ``sample`` users (leave-last-out test items), whatever the numbers are."""
    from pagegen.data import load_dataset
    from pagegen.evaluation import leave_last_out_experiment
    from pagegen.generators import EASE, artifacts
    from pagegen.seeding import as_generator

    experiment = leave_last_out_experiment(load_dataset(dataset, data_dir))
    ease, _ = artifacts.load_or_train(EASE, data_dir, experiment.train, validation=experiment.validation)
    serving, test = experiment.serving, experiment.test
    titles = serving.catalogue[S.TITLE].to_list()
    rows = as_generator(seed).choice(len(test.targets), size=min(sample, len(test.targets)), replace=False)
    totals = {"ease": [0.0, 0.0], "llm": [0.0, 0.0]}
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
            if target in ranked[:10]:
                position = ranked.index(target)
                totals[name][0] += 1 / math.log2(position + 2)
                totals[name][1] += 1
    users = len(rows)
    return {
        "dataset": dataset,
        "backend": backend.name,
        "users": users,
        "candidates": candidates,
        "answers_used": used,
        "seconds": round(time.perf_counter() - started, 1),
        **{f"{name}_ndcg@10": round(v[0] / users, 4) for name, v in totals.items()},
        **{f"{name}_hr@10": round(v[1] / users, 4) for name, v in totals.items()},
    }
