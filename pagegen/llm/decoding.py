"""Grammar-constrained title decoding for the embedded model: the model chooses, the grammar
(``pagegen.llm.grammar``) keeps every choice inside the titles its row may have.

- A row's phrases are spelled as token sequences in a trie. At each step a candidate may take only a
  token that continues one of them, or end (a newline) where a whole phrase is spelled.
- Only the choices cost the model a step: where the trie leaves one way on (the rest of a film's name,
  "… for You"), those tokens are taken without asking and fed to the model with its next step, and a
  candidate leaves the batch as soon as it ends.
- Each candidate samples from the model's own probabilities over the allowed tokens with its own seeded
  generator, so the same row gets the same titles on any page, in any batch. Where the choice is
  between patterns rather than words, the patterns' shares are flattened (``pattern_temperature``):
  left to itself the model picks its few favourite patterns ("In the Spirit of …", "… Trending Now")
  for most rows.
- Several candidates per row; the valid one with the best mean log-probability (over the model's whole
  vocabulary, at the steps where it chose) is kept, distinct from the page's other titles.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pagegen.llm.foreground import FOREGROUND
from pagegen.llm.title_rules import TitleFacts, validate_title


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    end: bool = False  # a whole phrase is spelled here
    patterns: set[int] = field(default_factory=set)  # of the phrases through here
    ending: set[int] = field(default_factory=set)  # of the phrases that end here

    def ways(self) -> list[frozenset[int]]:
        """Per option (each child, then the end where a phrase ends here), the patterns it leads to: the
        choice here is between patterns ("… Trending Now" or "… Everyone Is Watching") where they differ,
        between words of the same ones (a genre's form, a quality word, the decade or not) where not."""
        return [frozenset(c.patterns) for c in self.children.values()] + ([frozenset(self.ending)] if self.end else [])


class PhraseTrie:
    """Phrases as token-id sequences, each spelled with a leading space (the way a title continues
    ``Title:``); words are encoded once each, as the tokenizer splits text at spaces anyway."""

    def __init__(self, tokenizer: Any, phrases: dict[str, int], spelled: dict[str, list[int]] | None = None) -> None:
        self.root = _Node()
        spelled = {} if spelled is None else spelled  # word → tokens, shared across a page's rows
        for phrase, pattern in phrases.items():
            node = self.root
            node.patterns.add(pattern)
            for word in phrase.split():
                if word not in spelled:
                    spelled[word] = tokenizer.encode(" " + word, add_special_tokens=False)
                for token in spelled[word]:
                    node = node.children.setdefault(token, _Node())
                    node.patterns.add(pattern)
            node.end = True
            node.ending.add(pattern)

    def walk(self, tokens: Sequence[int]) -> _Node | None:
        node: _Node | None = self.root
        for token in tokens:
            node = node.children.get(token) if node else None
        return node


@dataclass
class _Candidate:
    row: int
    rng: random.Random
    node: _Node
    pending: list[int]  # tokens the model has yet to read
    tokens: list[int] = field(default_factory=list)  # the title so far
    logprob: float = 0.0
    choices: int = 0
    done: bool = False


def row_seed(facts: TitleFacts) -> int:
    """A seed from the row's facts alone: its titles never depend on the page around it."""
    return int.from_bytes(hashlib.sha256(repr(facts).encode()).digest()[:8], "big")


def sample_titles(
    model: Any,
    tokenizer: Any,
    cache: Any,
    mask: Any,
    first: Any,
    tries: Sequence[PhraseTrie],
    seeds: Sequence[int],
    *,
    per_row: int,
    end: int,
    temperature: float,
    pattern_temperature: float,
    deadline: float,
    calibration: Sequence[Any] | None = None,
) -> list[list[tuple[str | None, float]]]:
    """``per_row`` sampled titles per row with their scores (None for one not finished by the deadline).

    ``cache`` holds the model's state over every prompt, one per row, ``mask`` their attention mask (both
    are repeated here for the candidates), ``first`` the model's log-probabilities of each prompt's
    next token (a title's first choice costs no step of its own). ``calibration``: per row,
    log-probabilities over the vocabulary discounted from the model's at the row's first choice (what
    the model would say of any row of its type)."""
    import torch

    cache.batch_repeat_interleave(per_row)
    mask = mask.repeat_interleave(per_row, 0)
    lengths = mask.sum(-1)
    candidates = [
        _Candidate(row=r, rng=random.Random(seeds[r] * 131 + k), node=tries[r].root, pending=[])
        for r in range(len(tries))
        for k in range(per_row)
    ]

    def choose(candidate: _Candidate, logprobs: Any) -> None:
        options = _options(candidate.node, end)
        allowed = logprobs[options]
        if calibration is not None and candidate.choices == 0:
            allowed = allowed - calibration[candidate.row][options]
        weights = pattern_weights(
            (allowed / temperature).softmax(-1).tolist(), candidate.node.ways(), pattern_temperature
        )
        choice = candidate.rng.choices(range(len(options)), weights=weights)[0]
        candidate.logprob += float(logprobs[options[choice]])  # the model's own, uncalibrated
        candidate.choices += 1
        _advance(candidate, options[choice], end)

    for candidate in candidates:
        _take_forced(candidate, end)
        if not candidate.done and not candidate.pending:  # the choice right after the prompt
            choose(candidate, first[candidate.row])
    active = candidates
    head = model.get_output_embeddings()
    while time.perf_counter() < deadline:
        FOREGROUND.wait_until_idle()  # a page a person waits for goes first (the dashboard's titler)
        keep = [i for i, c in enumerate(active) if not c.done]
        if not keep:
            break
        if len(keep) < len(active):  # the finished leave the batch
            cache.batch_select_indices(torch.tensor(keep, dtype=torch.long))
            mask, lengths = mask[keep], lengths[keep]
            active = [active[i] for i in keep]
        width = max(len(c.pending) for c in active)
        ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(c.pending)) + c.pending for c in active])
        step_mask = torch.tensor([[0] * (width - len(c.pending)) + [1] * len(c.pending) for c in active])
        positions = lengths[:, None] + (step_mask.cumsum(-1) - 1).clamp(min=0)
        mask = torch.cat([mask, step_mask], dim=1)
        hidden = model.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True
        ).last_hidden_state[:, -1]
        logprobs = head(hidden).float().log_softmax(-1)
        lengths = lengths + step_mask.sum(-1)
        for index, candidate in enumerate(active):
            choose(candidate, logprobs[index])
    titles: list[list[tuple[str | None, float]]] = [[] for _ in tries]
    for candidate in candidates:
        if candidate.done:
            score = candidate.logprob / max(candidate.choices, 1)
            titles[candidate.row].append((tokenizer.decode(candidate.tokens).strip(), score))
        else:
            titles[candidate.row].append((None, -math.inf))  # not finished in time
    return titles


def pattern_weights(probabilities: list[float], ways: list[frozenset[int]], pattern_temperature: float) -> list[float]:
    """The options' probabilities with the mass of each set of patterns they lead to flattened by
    ``pattern_temperature`` and shared out as before within it: a pattern opening with one of twelve
    quality words is as likely as one opening with a fixed word, as likely as the model makes it."""
    mass: dict[frozenset[int], float] = {}
    for p, way in zip(probabilities, ways, strict=True):
        mass[way] = mass.get(way, 0.0) + p
    if len(mass) == 1:
        return probabilities
    return [
        p * max(mass[way], 1e-12) ** (1 / pattern_temperature - 1) for p, way in zip(probabilities, ways, strict=True)
    ]


def _options(node: _Node, end: int) -> list[int]:
    return [*node.children, *([end] if node.end else [])]


def _advance(candidate: _Candidate, token: int, end: int) -> None:
    if token == end:
        candidate.done = True
        return
    candidate.node = candidate.node.children[token]
    candidate.tokens.append(token)
    candidate.pending = [token]
    _take_forced(candidate, end)


def _take_forced(candidate: _Candidate, end: int) -> None:
    """Take the tokens the trie leaves no choice about (queued for the model to read with its next
    step); a phrase that can only end, ends (an empty trie ends at once, with no title)."""
    while True:
        options = _options(candidate.node, end)
        if options in ([], [end]):
            candidate.done = True
            return
        if len(options) > 1:
            return
        token = options[0]
        candidate.node = candidate.node.children[token]
        candidate.tokens.append(token)
        candidate.pending.append(token)


def pick_titles(
    candidates: Sequence[Sequence[tuple[str | None, float]]],
    facts: Sequence[TitleFacts],
    *,
    taken: Iterable[str] = (),
    catalogue: Iterable[str] = (),
) -> list[str | None]:
    """Per row, the best-scored candidate that passes validation and no other row has (rows in order);
    where none does, the best finished one (the caller's validation refuses it with its reason), None
    where no candidate finished."""
    used = {t.lower() for t in taken}
    picked: list[str | None] = []
    for row_candidates, row_facts in zip(candidates, facts, strict=True):
        finished = sorted((c for c in row_candidates if c[0] is not None), key=lambda c: -c[1])
        choice = next(
            (t for t, _ in finished if validate_title(t or "", row_facts, taken=used, catalogue=catalogue)[0]), None
        )
        if choice:
            used.add(choice.lower())
        # none usable: the model's best answer all the same, for the caller's validation to refuse with its
        # reason (None says the row was not answered in time)
        picked.append(choice if choice is not None else finished[0][0] if finished else None)
    return picked
