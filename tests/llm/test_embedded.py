"""The embedded backend with the real packaged model (SmolLM2-135M-Instruct), as `make test` prepares
it with `pagegen llm prepare`: whatever the tiny model writes, every shown title passes validation."""

import os
import time
from pathlib import Path

import pytest

from pagegen.llm.embedded import EmbeddedBackend, embedded_ready
from pagegen.llm.title_rules import validate_title
from tests.factories import CATALOGUE, FACTS, make_page

DATA_DIR = Path(os.environ.get("PAGEGEN_DATA_DIR") or Path(__file__).resolve().parents[2] / "data")

pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        not embedded_ready(DATA_DIR),
        reason=f"the embedded model is not prepared in {DATA_DIR}; `make test` runs `pagegen llm prepare`",
    ),
]


@pytest.fixture(scope="module")
def backend():
    backend = EmbeddedBackend(DATA_DIR)
    backend.warm()
    return backend


def test_batch_generation_answers_every_prompt_and_keeps_the_deadline(backend):
    from pagegen.llm.title_rules import title_prompt

    answers = backend.generate([title_prompt(FACTS)] * 3, deadline=time.perf_counter() + 30, max_words=7)
    assert len(answers) == 3 and all(isinstance(a, str) for a in answers)
    assert answers[0] == answers[1]  # greedy decoding: the same prompt, the same answer
    started = time.perf_counter()
    assert backend.generate([title_prompt(FACTS)], deadline=started, max_words=7) == [None]


def test_every_title_it_leaves_on_a_page_is_valid(backend):
    from pagegen.llm.title_rules import TitleFacts
    from pagegen.llm.titles import title_page

    original = make_page()
    titled, report = title_page(original, backend, catalogue=CATALOGUE, budget=30)
    assert report.backend == "embedded:SmolLM2-135M-Instruct"
    assert report.from_model + report.from_template == len(titled.rows)
    for index, (before, after) in enumerate(zip(original.rows, titled.rows, strict=True)):
        if after.title_source == "model":
            taken = [row.title for row in titled.rows[:index]]
            facts = TitleFacts.of(before)
            assert validate_title(after.title, facts, taken=taken, catalogue=CATALOGUE) == (after.title, "")
        else:
            assert after.title == before.title and after.title_note


def test_constrained_titles_are_valid_distinct_and_the_same_each_time(backend):
    from pagegen.llm.title_rules import TitleFacts

    facts = [TitleFacts.of(row) for row in make_page().rows]
    titles = backend.generate_titles(facts, deadline=time.perf_counter() + 60, catalogue=CATALOGUE)
    assert backend.generate_titles(facts, deadline=time.perf_counter() + 60, catalogue=CATALOGUE) == titles
    # a row with no usable candidate gets the model's best answer, for title_page's validation to refuse
    valid = [
        t for t, row in zip(titles, facts, strict=True) if t and validate_title(t, row, catalogue=CATALOGUE)[0] == t
    ]
    assert valid and len({t.lower() for t in valid}) == len(valid)
    assert backend.generate_titles(facts, deadline=time.perf_counter()) == [None, None]
