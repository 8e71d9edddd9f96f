"""Grammar-constrained title decoding, with a character-level fake tokenizer and a random "model":
whatever the model prefers, a candidate spells one of its row's phrases, and the same row gets the same
titles in any batch."""

from __future__ import annotations

import time

import pytest
import torch

from pagegen.llm.decoding import PhraseTrie, pattern_weights, pick_titles, row_seed, sample_titles
from pagegen.llm.grammar import genre_phrases, title_phrases
from pagegen.llm.title_rules import MAX_WORDS, TitleFacts, mentions, validate_title
from pagegen.llm.titles import title_page
from tests.factories import CATALOGUE, FACTS, make_page

NEWLINE, PAD = 10, 0  # the fake vocabulary: character codes
VOCAB = 256


class CharTokenizer:
    """One token per character (code < 256)."""

    pad_token_id = PAD

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [ord(c) for c in text if ord(c) < VOCAB]

    def decode(self, tokens: list[int]) -> str:
        return "".join(chr(t) for t in tokens if t)


class FakeCache:
    """Just enough of a transformers cache: its batch, repeated and selected as the decoder asks."""

    def __init__(self, rows: int) -> None:
        self.rows = list(range(rows))

    def batch_repeat_interleave(self, times: int) -> None:
        self.rows = [r for r in self.rows for _ in range(times)]

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self.rows = [self.rows[i] for i in indices.tolist()]


class RandomModel(torch.nn.Module):
    """A "model" whose next-token scores are a fixed random function of the last token read: the
    decoder must keep to the grammar whatever they are. Counts the tokens it reads."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.table = torch.randn((VOCAB, VOCAB), generator=generator) * 3
        self.head = torch.nn.Identity()
        self.read: list[int] = []  # tokens per call

    def get_output_embeddings(self):
        return self.head

    def model(self, *, input_ids, attention_mask, position_ids, cache, use_cache):
        assert len(cache.rows) == input_ids.shape[0] == attention_mask.shape[0]
        assert attention_mask.shape[1] > input_ids.shape[1]  # the prompt's mask comes first
        self.read.append(int(attention_mask[:, -input_ids.shape[1] :].sum()))

        class Output:
            last_hidden_state = self.table[input_ids]

        return Output()


COMEDY = TitleFacts.of(make_page().rows[1])


def decode(
    facts: list[TitleFacts], *, seed: int, per_row: int = 3, deadline: float | None = None, model=None, calibration=None
):
    tokenizer, model = CharTokenizer(), model or RandomModel(seed)
    tries = [PhraseTrie(tokenizer, title_phrases(f)) for f in facts]
    return sample_titles(
        model,
        tokenizer,
        FakeCache(len(facts)),
        torch.ones((len(facts), 4), dtype=torch.long),
        model.table[[ord(":")] * len(facts)].log_softmax(-1),  # after the prompt's ":"
        tries,
        [row_seed(f) for f in facts],
        per_row=per_row,
        end=NEWLINE,
        temperature=1.0,
        pattern_temperature=1.0,
        deadline=time.perf_counter() + 60 if deadline is None else deadline,
        calibration=calibration,
    )


def test_every_phrase_of_the_grammar_is_a_valid_title_of_its_row():
    for facts in (FACTS, COMEDY):  # because you watched Alien (Sci-Fi, Action; 1980s); Comedy for you
        phrases = title_phrases(facts)
        assert len(phrases) > 15
        for phrase in phrases:
            assert validate_title(phrase, facts, catalogue=CATALOGUE) == (phrase, ""), phrase
    assert all("Alien" in p for p in title_phrases(FACTS))  # a because-you-watched title names its film
    assert all(mentions(p, "Comedy") for p in title_phrases(COMEDY))  # a genre row's title names its genre


def test_genre_phrases_name_the_first_genre_and_qualify_it_by_the_others():
    assert genre_phrases(("Comedy", "Romance")) == [
        "Comedies", "Comedy", "Comedy Films", "Romantic Comedies", "Comedy Romances",
    ]  # fmt: skip
    assert genre_phrases(()) == [] and genre_phrases(("Unknown",)) == []


def test_the_trie_spells_whole_phrases_only():
    trie = PhraseTrie(CharTokenizer(), {"More Like Alien": 0, "More Alien": 1, "More Alien of the 1980s": 1})
    encode = CharTokenizer().encode
    assert trie.walk(encode(" More Alien")).end
    assert not trie.walk(encode(" More Like")).end
    assert trie.walk(encode(" More Aliens")) is None
    assert trie.walk(encode(" More ")).ways() == [{0}, {1}]  # "Like Alien" (pattern 0) or "Alien" (1)
    assert trie.walk(encode(" More Alien")).ways() == [{1}, {1}]  # the decade or not: the same pattern


def test_patterns_are_flattened_as_wholes_whatever_words_they_open_with():
    # three words open pattern 0, one opens pattern 1: at pattern temperature 1 the model's shares stand;
    # at 2, each pattern's mass m becomes m ** 0.5 (0.8 → 0.894, 0.2 → 0.447), shared out as before
    ways = [frozenset({0})] * 3 + [frozenset({1})]
    assert pattern_weights([0.4, 0.2, 0.2, 0.2], ways, 1.0) == pytest.approx([0.4, 0.2, 0.2, 0.2])
    flat = pattern_weights([0.4, 0.2, 0.2, 0.2], ways, 2.0)
    total = sum(flat)
    assert [w / total for w in flat] == pytest.approx(
        [0.4 * 1.118 / 1.341, 0.2 * 1.118 / 1.341, 0.2 * 1.118 / 1.341, 0.2 * 2.236 / 1.341], rel=1e-3
    )
    assert pattern_weights([0.5, 0.5], [frozenset({0})] * 2, 3.0) == [
        0.5,
        0.5,
    ]  # one pattern: the words as the model has them


@pytest.mark.parametrize("seed", range(4))
def test_every_candidate_spells_one_of_its_rows_phrases(seed):
    facts = [FACTS, COMEDY]
    candidates = decode(facts, seed=seed)
    for row, row_candidates in zip(facts, candidates, strict=True):
        assert len(row_candidates) == 3
        for text, score in row_candidates:
            assert text in title_phrases(row) and score <= 0
            assert len(text.split()) <= MAX_WORDS


def test_a_rows_titles_do_not_depend_on_the_batch_around_it():
    together = decode([FACTS, COMEDY], seed=1)
    assert decode([COMEDY], seed=1) == together[1:]
    assert decode([FACTS, COMEDY], seed=1) == together


def test_the_model_is_asked_only_where_the_grammar_leaves_a_choice():
    model = RandomModel(0)
    (candidates,) = decode([FACTS], seed=0, per_row=1, model=model)
    ((title, _),) = candidates
    trie, tokens = PhraseTrie(CharTokenizer(), title_phrases(FACTS)), CharTokenizer().encode(" " + title)
    # a choice wherever the spelled path so far has more than one way on (the end counts as one)
    choices = [i for i in range(len(tokens) + 1) if len(trie.walk(tokens[:i]).children) + trie.walk(tokens[:i]).end > 1]
    assert len(model.read) == len(choices) >= 1
    # each call reads what was taken since the last: in all, the title up to its last choice (the prompt
    # is read before, with the log-probabilities of the first choice)
    assert sum(model.read) == choices[-1]


def test_what_the_deadline_cuts_short_is_no_title():
    (candidates,) = decode([FACTS], seed=0, deadline=time.perf_counter())
    assert candidates == [(None, float("-inf"))] * 3


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


def test_calibration_discounts_what_the_model_says_of_any_row_at_the_first_choice():
    # a "content-free" distribution that says "M" for any row: titles then rarely open with "More …"
    said = torch.zeros(VOCAB)
    said[ord("M")] = 50.0
    plain = [t for seed in range(6) for t, _ in decode([FACTS], seed=seed, per_row=4)[0]]
    calibrated = [t for seed in range(6) for t, _ in decode([FACTS], seed=seed, per_row=4, calibration=[said])[0]]
    assert any(t.startswith("M") for t in plain)
    assert not any(t.startswith("M") for t in calibrated) and all(t in title_phrases(FACTS) for t in calibrated)


def test_a_row_the_grammar_has_no_title_for_gets_an_empty_answer_for_validation_to_refuse():
    nothing = TitleFacts("genre", None, (), None, ("Heat",), "Crime for you")  # no genre the grammar knows
    assert title_phrases(nothing) == {}
    assert decode([nothing], seed=0, per_row=1) == [[("", 0.0)]]
    assert pick_titles([[("", 0.0)]], [nothing]) == [""]  # answered, not late: refused as "empty answer"


class WordTokenizer:
    """One token per word (with its leading space), as the real tokenizer spells most title words."""

    pad_token_id = PAD

    def __init__(self) -> None:
        self.words: list[str] = ["<pad>"]

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        if text not in self.words:
            self.words.append(text)
        return [self.words.index(text)]

    def decode(self, tokens: list[int]) -> str:
        return "".join(self.words[t] for t in tokens)


def test_the_first_choice_is_read_off_the_prompts_own_step():
    tokenizer, model = WordTokenizer(), RandomModel(0)
    trie = PhraseTrie(tokenizer, {"Alpha Beta": 0, "Alpha Delta": 0, "Gamma": 1})
    first = torch.full((1, VOCAB), -1e9)
    first[0, tokenizer.encode(" Gamma")] = 0.0  # the prompt's next token, as the prefill found it
    args = (model, tokenizer, FakeCache(1), torch.ones((1, 4), dtype=torch.long), first, [trie], [0])
    titles = sample_titles(
        *args, per_row=2, end=NEWLINE, temperature=1.0, pattern_temperature=1.0, deadline=time.perf_counter() + 60
    )
    assert titles == [[("Gamma", 0.0), ("Gamma", 0.0)]] and model.read == []  # chosen, then ended: no step
