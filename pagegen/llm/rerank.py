"""Zero-shot ranking (Hou et al. 2023, "Large language models are zero-shot rankers"): the model sees
the titles a user watched, most recent last, and a numbered candidate list, and answers with the
numbers in its preferred order. Candidates are given explicitly so it cannot invent items; the answer
is parsed leniently (a JSON object, a list, or bare numbers), unknown or repeated numbers are dropped,
and candidates the model leaves out keep their original order after the ones it ranked."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence

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
