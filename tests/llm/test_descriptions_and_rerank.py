"""Item descriptions (validation, resumable storage, use by the content model) and zero-shot ranking
(prompt, lenient parsing, fallback to the original order)."""

from __future__ import annotations

import polars as pl
import pytest

from pagegen.data import load_dataset
from pagegen.generators.content import item_texts
from pagegen.llm.backends import BackendError, TemplateBackend
from pagegen.llm.descriptions import describe_items, description_prompt, load_descriptions, validate_description
from pagegen.llm.rerank import parse_ranking, ranking_prompt, rerank
from tests.factories import make_dataset


class Scripted:
    name = model_name = "scripted"
    generates = True

    def __init__(self, answer=None, json_answer=None, fail=False):
        self.answer, self.json_answer, self.fail, self.prompts = answer, json_answer, fail, []

    def warm(self):
        return None

    def generate(self, prompts, *, deadline, max_words):
        self.prompts += prompts
        return [self.answer(p) if callable(self.answer) else self.answer for p in prompts]

    def generate_json(self, prompt, schema, *, deadline):
        if self.fail:
            raise BackendError("no answer")
        return self.json_answer


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ("A quiet drama about two brothers on a farm.", True),
        ("Description: A quiet drama about two brothers on a farm. They argue.", True),
        ("A drama.", False),  # too short
        ("A **bold** drama about brothers.", False),  # markup
        ("A drama about brothers, remade in 2004 as a comedy.", False),  # a year not in the facts
        ("A drama in the spirit of The Godfather and its heirs.", False),  # names another film
        ("A long tale about two brothers on a farm and their cows.", False),  # none of its genres
    ],
)
def test_description_validation(answer, kept):
    result = validate_description(answer, "Brothers", 1996, ["Drama"], catalogue=["The Godfather", "Brothers"])
    assert (result is not None) == kept


def test_describe_is_resumable_and_feeds_the_content_model(tmp_path):
    rows = [(u, i, 4.0, u * 10 + i) for u in range(1, 5) for i in range(1, 7)]
    dataset = make_dataset(tmp_path, "tiny", rows, n_items=6)
    backend = Scripted(
        lambda prompt: (
            "A gentle comedy about a family." if '"Item 2"' in prompt else "A warm comedy tale of old friends."
        )
    )
    first = describe_items(tmp_path, "tiny", dataset.items, backend, limit=3)
    assert (first.described, first.refused, first.remaining) == (2, 1, 4)  # item 2 is a Drama: refused
    second = describe_items(tmp_path, "tiny", dataset.items, backend)
    assert second.already == 2 and len(backend.prompts) == 3 + 4  # described items are not asked again
    stored = load_descriptions(tmp_path, "tiny")
    assert stored["model"].unique().to_list() == ["scripted"]
    texts = item_texts(load_dataset("tiny", tmp_path).items.sort("item_id"))
    assert texts[0].endswith("Genres: Comedy. A warm comedy tale of old friends.")
    with pytest.raises(BackendError, match="the template backend writes no descriptions"):
        describe_items(tmp_path, "tiny", dataset.items, TemplateBackend())


def test_description_prompt_quotes_the_title():
    prompt = description_prompt('Say "hi" and stop', 1990, ["Drama"])
    assert "Film: \"Say 'hi' and stop\" (1990); genres Drama" in prompt and prompt.endswith("Description:")


def test_ranking_prompt_lists_candidates_explicitly():
    prompt = ranking_prompt([f"Seen {i}" for i in range(12)], ["Alien", "Heat"])
    assert '"Seen 1"' not in prompt and '"Seen 11"' in prompt  # the last ten titles only
    assert '[1] "Alien"\n[2] "Heat"' in prompt


@pytest.mark.parametrize(
    ("answer", "order"),
    [
        ({"ranking": [3, 1, 2]}, [2, 0, 1]),
        ([2, 2, 9, 1], [1, 0, 2]),  # repeats and unknown numbers dropped, the rest appended
        ("I think [3] then [1].", [2, 0, 1]),
        ({"ranking": ["x", None]}, [0, 1, 2]),
        ("no numbers", [0, 1, 2]),
    ],
)
def test_parse_ranking_is_lenient(answer, order):
    assert parse_ranking(answer, 3) == order


def test_rerank_keeps_the_original_order_when_the_model_fails():
    assert rerank(Scripted(json_answer={"ranking": [2]}), ["A"], ["X", "Y", "Z"]) == ([1, 0, 2], True)
    assert rerank(Scripted(fail=True), ["A"], ["X", "Y", "Z"]) == ([0, 1, 2], False)


def test_content_text_digest_changes_with_descriptions(tmp_path):
    from pagegen.generators import build_training_data

    rows = [(u, i, 4.0, u * 10 + i) for u in range(1, 4) for i in range(1, 5)]
    dataset = make_dataset(tmp_path, "tiny", rows, n_items=4)
    before = build_training_data(dataset, dataset.interactions, split="all").text_digest
    pl.DataFrame({"item_id": [1], "description": ["A comedy."], "model": ["m"]}).write_parquet(
        tmp_path / "tiny" / "descriptions.parquet"
    )
    described = load_dataset("tiny", tmp_path)
    assert build_training_data(described, described.interactions, split="all").text_digest != before
