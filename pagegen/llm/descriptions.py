"""Item descriptions: one or two sentences per film from its title, year and genres, written by the
language model, validated, and stored with the model's name in ``data/<dataset>/descriptions.parquet``
(resumable: items already described are skipped; every batch is saved atomically). The content
generator adds them to the text it embeds."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pagegen.data import schema as S
from pagegen.data.store import DESCRIPTIONS
from pagegen.files import atomic_path
from pagegen.llm.backends import Backend, BackendError

MIN_WORDS, MAX_WORDS = 6, 60
BATCH = 8
SECONDS_PER_BATCH = 60.0
_MARKUP = re.compile(r"[*_#<>\[\]{}|`\\]|https?:|\n\s*\n")


@dataclass(frozen=True)
class DescribeReport:
    backend: str
    described: int  # new descriptions stored by this run
    refused: int  # model answers that failed validation (not stored)
    already: int  # items described by an earlier run
    remaining: int  # items still without a description
    seconds: float


def description_prompt(title: str, year: int | None, genres: Iterable[str]) -> str:
    """Few-shot: the facts are quoted, the answer is one plain sentence."""
    return "\n".join(
        [
            "One-sentence descriptions of films for a streaming catalogue.",
            "",
            'Film: "Toy Story" (1995); genres Animation, Children\'s, Comedy',
            f"Description: {EXAMPLE}",
            "",
            f"Film: {_quoted(title)}" + (f" ({year})" if year else "") + f"; genres {', '.join(genres)}",
            "Description:",
        ]
    )


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


EXAMPLE = "An animated comedy about toys that come to life when their owner is away."


def validate_description(
    answer: str, title: str, year: int | None, genres: Iterable[str], catalogue: Iterable[str] = ()
) -> str | None:
    """The cleaned description, or None when it is not one or two plain sentences about this film
    that name at least one of its genres (small models invent plots; a genre keeps them near the facts)."""
    text = answer.strip().split("\n", 1)[0].strip().removeprefix("Description:").strip()
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    if not text or _MARKUP.search(text) or not 1 <= len(sentences) <= 2 or not text.endswith((".", "!")):
        return None
    if not MIN_WORDS <= len(text.split()) <= MAX_WORDS:
        return None
    years = set(re.findall(r"\b(1[89]\d\d|20\d\d)\b", text))
    if years - {str(year)}:
        return None  # a year the facts do not give
    lowered, own = text.lower(), title.lower()
    for other in catalogue:
        name = other.lower()
        if (
            len(name) >= 6
            and name != own
            and name not in own
            and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered)
        ):
            return None  # names another film
    if "description" in lowered or "film:" in lowered or (text == EXAMPLE and own != "toy story"):
        return None  # echoes the prompt
    stems = [g.lower().replace("children's", "child")[:5] for g in genres]
    if stems and not any(stem in lowered for stem in stems):
        return None
    return text


def load_descriptions(data_dir: Path, dataset: str) -> pl.DataFrame:
    path = data_dir / dataset / DESCRIPTIONS
    if not path.is_file():
        return pl.DataFrame(schema={S.ITEM_ID: pl.Int32, "description": pl.String, "model": pl.String})
    return pl.read_parquet(path)


def describe_items(
    data_dir: Path,
    dataset: str,
    items: pl.DataFrame,
    backend: Backend,
    *,
    limit: int | None = None,
    progress: bool = False,
) -> DescribeReport:
    """Describe up to ``limit`` items that have no description yet, saving after every batch."""
    from tqdm import tqdm

    started = time.perf_counter()
    if not backend.generates:
        raise BackendError("the template backend writes no descriptions; use --backend ollama or embedded")
    stored = load_descriptions(data_dir, dataset)
    done = set(stored[S.ITEM_ID].to_list())
    todo = items.filter(~pl.col(S.ITEM_ID).is_in(list(done))).sort(S.ITEM_ID)
    if limit is not None:
        todo = todo.head(limit)
    catalogue = items[S.TITLE].to_list()
    described = refused = 0
    rows = todo.select(S.ITEM_ID, S.TITLE, S.YEAR, S.GENRES).to_dicts()
    bar = tqdm(total=len(rows), desc="describing items", unit="item", disable=not progress)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        prompts = [description_prompt(r[S.TITLE], r[S.YEAR], r[S.GENRES] or []) for r in batch]
        answers = backend.generate(prompts, deadline=time.perf_counter() + SECONDS_PER_BATCH, max_words=MAX_WORDS)
        fresh = []
        for row, answer in zip(batch, answers, strict=True):
            text = validate_description(answer or "", row[S.TITLE], row[S.YEAR], row[S.GENRES] or [], catalogue)
            if text is None:
                refused += 1
            else:
                fresh.append({S.ITEM_ID: row[S.ITEM_ID], "description": text, "model": backend.model_name})
        if fresh:
            stored = pl.concat([stored, pl.DataFrame(fresh, schema=stored.schema)])
            _save(data_dir / dataset / DESCRIPTIONS, stored)
            described += len(fresh)
        bar.update(len(batch))
    bar.close()
    return DescribeReport(
        backend=backend.name,
        described=described,
        refused=refused,
        already=len(done),
        remaining=items.height - stored.height,
        seconds=round(time.perf_counter() - started, 1),
    )


def _save(path: Path, table: pl.DataFrame) -> None:
    with atomic_path(path) as temporary:
        table.write_parquet(temporary)
