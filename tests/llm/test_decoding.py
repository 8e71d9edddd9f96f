"""Constrained title decoding, with a character-level fake tokenizer and random "model" scores: whatever
the model prefers, a candidate only spells the row's allowed words and ends only as a valid title."""

from __future__ import annotations

import re

import pytest
import torch

from pagegen.llm.decoding import EnoughCandidates, TitleLogitsProcessor, WordTrie, allowed_words, pick_titles
from pagegen.llm.title_rules import MAX_WORDS, TitleFacts, validate_title
from pagegen.llm.titles import title_page
from tests.factories import CATALOGUE, FACTS, make_page

NEWLINE, END = 10, 0  # the fake vocabulary: character codes, 0 the end of text
VOCAB = 256


class CharTokenizer:
    """One token per character (code < 256)."""

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [ord(c) for c in text if ord(c) < VOCAB]

    def decode(self, tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens if t)


COMEDY = TitleFacts.of(make_page().rows[1])


def test_allowed_words_hold_the_rows_facts_and_no_other_genre():
    words = allowed_words(FACTS)  # because you watched Alien: Sci-Fi, Action; 1980s
    assert {"Alien", "Sci-Fi", "Action", "More", "Like"} <= set(words)
    assert not {"Comedies", "Romantic", "Thrillers", "Drama"} & set(words)
    assert all(not re.search(r"\d", w) or w == FACTS.decade for w in words)
    assert {"Comedy", "Comedies", "Favorite"} <= set(allowed_words(COMEDY))


def test_the_trie_spells_whole_words_only():
    trie = WordTrie(CharTokenizer(), ["More", "Alien"])
    encode = CharTokenizer().encode
    assert trie.walk(encode(" More Alien")).end
    assert not trie.walk(encode(" Mor")).end
    assert trie.walk(encode(" Mores")) is None


def decode(processor: TitleLogitsProcessor, rows: int, seed: int) -> list[str]:
    """Greedy decoding of ``rows`` candidates over random scores through ``processor``."""
    generator = torch.Generator().manual_seed(seed)
    prompt = [ord(":")] * processor.prompt_length
    sequences = [list(prompt) for _ in range(rows)]
    for _ in range(80):
        scores = torch.rand((rows, VOCAB), generator=generator)
        masked = processor(torch.tensor(sequences), scores)
        for sequence, token in zip(sequences, masked.argmax(-1).tolist(), strict=True):
            sequence.append(NEWLINE if sequence[-1] in (NEWLINE, END) else token)
        if all(s[-1] in (NEWLINE, END) for s in sequences):
            break
    return [CharTokenizer().decode(s[processor.prompt_length : -1]) for s in sequences]


@pytest.mark.parametrize("seed", range(5))
def test_every_candidate_is_made_of_allowed_words_and_ends_only_when_valid(seed):
    facts = [FACTS, COMEDY]
    processor = TitleLogitsProcessor(CharTokenizer(), facts, per_row=3, prompt_length=4, ends=[NEWLINE, END])
    texts = decode(processor, rows=6, seed=seed)
    for index, text in enumerate(texts):
        row = facts[index // 3]
        assert set(text.split()) <= set(allowed_words(row)), text
        assert len(text.split()) <= MAX_WORDS
        # it ended because it was valid, or because no word more was allowed (validation refuses it then)
        assert validate_title(text, row)[0] == text.strip() or len(text.split()) == MAX_WORDS, text


def test_the_end_is_allowed_only_once_the_title_is_valid():
    processor = TitleLogitsProcessor(CharTokenizer(), [FACTS], per_row=1, prompt_length=0, ends=[NEWLINE, END])
    encode = CharTokenizer().encode
    assert NEWLINE not in processor.allowed(0, encode(" More"))  # one word
    assert NEWLINE not in processor.allowed(0, encode(" The Great"))  # about nothing of its row
    assert NEWLINE not in processor.allowed(0, encode(" More Al"))  # inside a word
    assert NEWLINE in processor.allowed(0, encode(" More Alien"))
    limited = TitleLogitsProcessor(
        CharTokenizer(), [FACTS], per_row=1, prompt_length=0, ends=[NEWLINE, END], max_words=3
    )
    assert limited.allowed(0, encode(" More Sci-Fi Action")) == [NEWLINE, END]  # the last word allowed


def test_the_pick_is_the_best_valid_candidate_distinct_across_rows():
    candidates = [
        [("More Alien", -0.5), ("More Sci-Fi Like Alien", -0.2), ("Toy Story Like Alien", -0.1), (None, float("-inf"))],
        [("More Alien", -0.1), ("Comedy for You", -0.3)],
        [("the", -0.1)],
    ]
    facts = [FACTS, FACTS, COMEDY]
    picked = pick_titles(candidates, facts, catalogue=CATALOGUE)
    # "Toy Story" is a film not in the row; the second row may not repeat the first; nothing valid: the
    # best answer, for title_page to refuse with its reason
    assert picked == ["More Sci-Fi Like Alien", "More Alien", "the"]
    assert pick_titles([[(None, float("-inf"))]], [FACTS]) == [None]  # nothing finished: not in time
    taken = ["more sci-fi like alien"]
    assert pick_titles(candidates[:1], facts[:1], taken=taken, catalogue=CATALOGUE) == ["More Alien"]


class FactsBackend:
    """A backend that titles from the facts (as the embedded one does); its plain generate must not run."""

    name = model_name = "facts"
    generates = True

    def __init__(self) -> None:
        self.seen: list[TitleFacts] = []

    def generate(self, prompts, *, deadline, max_words):
        raise AssertionError("generate_titles should be used")

    def generate_titles(self, facts, *, deadline, taken=(), catalogue=()):
        self.seen += facts
        return ["More Sci-Fi Like Alien", "Comedy Favorites"][: len(facts)]


def test_title_page_hands_a_facts_backend_the_rows_facts():
    backend = FactsBackend()
    titled, report = title_page(make_page(), backend, catalogue=CATALOGUE)
    assert backend.seen == [FACTS, COMEDY]
    assert [r.title for r in titled.rows] == ["More Sci-Fi Like Alien", "Comedy Favorites"]
    assert report.from_model == 2


def test_a_title_does_not_end_on_a_joining_word_or_say_a_word_twice():
    processor = TitleLogitsProcessor(CharTokenizer(), [FACTS], per_row=1, prompt_length=0, ends=[NEWLINE, END])
    encode = CharTokenizer().encode
    assert NEWLINE not in processor.allowed(0, encode(" More Alien and"))
    assert NEWLINE not in processor.allowed(0, encode(" More Alien Alien"))
    assert NEWLINE in processor.allowed(0, encode(" More of Alien"))


def test_a_candidate_forced_to_end_at_the_word_limit_is_not_picked():
    candidates = [[("More Alien Sci-Fi and a", -0.1), ("More Alien Alien", -0.2), ("More Sci-Fi", -0.9)]]
    assert pick_titles(candidates, [FACTS]) == ["More Sci-Fi"]


def test_generation_stops_once_every_row_has_enough_finished_candidates():
    stop = EnoughCandidates(per_row=2, prompt_length=1, ends=[NEWLINE], enough=1)
    one_row_done = torch.tensor([[0, 65, NEWLINE], [0, 65, 66], [0, 65, 66], [0, 66, 66]])
    assert not stop(one_row_done, None).any()
    both_done = torch.tensor([[0, 65, NEWLINE], [0, 65, 66], [0, 65, 66], [0, NEWLINE, 0]])
    assert stop(both_done, None).all()
