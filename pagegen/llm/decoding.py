"""Constrained title decoding for the embedded model: the model chooses the wording, the decoder keeps
every candidate inside what a valid title can be.

- Each row gets a word list: its genres and their forms, its anchor film's words, its decade, a small
  vocabulary of its row type and a few joining words (none naming another genre). Words are spelled as
  token sequences in a trie, so a candidate is always a run of whole allowed words.
- The end of a title (newline or end-of-text) is allowed only once the words so far pass
  ``validate_title`` for the row (grounded, no echo, no stray number, 2–7 words); after the last word
  allowed, only the end is.
- Several candidates per row are sampled in one batch; the valid one with the best length-normalised
  log-probability is kept, distinct from the page's other titles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pagegen.llm.title_rules import GENRE_NAMES, MAX_WORDS, TitleFacts, mentions, validate_title

# The forms of a genre a title may use (each names its genre for the validator).
GENRE_FORMS: dict[str, tuple[str, ...]] = {
    "Action": ("Action", "Action-Packed"),
    "Adventure": ("Adventure", "Adventures"),
    "Animation": ("Animated", "Animation"),
    "Children's": ("Children's", "Family", "Kids"),
    "Comedy": ("Comedy", "Comedies", "Comedic"),
    "Crime": ("Crime",),
    "Documentary": ("Documentary", "Documentaries"),
    "Drama": ("Drama",),
    "Fantasy": ("Fantasy", "Fantastic"),
    "Film-Noir": ("Film-Noir", "Noir"),
    "Horror": ("Horror",),
    "Musical": ("Musical", "Musicals"),
    "Mystery": ("Mystery", "Mysteries"),
    "Romance": ("Romance", "Romantic", "Romances"),
    "Sci-Fi": ("Sci-Fi",),
    "Thriller": ("Thriller", "Thrillers", "Thrilling"),
    "War": ("War",),
    "Western": ("Western", "Westerns"),
}

# Words a row of each type may use to say what it is.
ROW_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "top_picks": ("Top", "Picks", "Picked", "Best", "Personal", "Favorites", "Choice", "Just", "Made", "Handpicked"),
    "because_you_watched": ("More", "Like", "If", "Liked", "Loved", "Enjoyed", "Fans", "After", "Similar", "Spirit"),
    "up_next": ("Up", "Next", "Continue", "Keep", "Watching", "Queue", "Coming"),
    "new_for_you": ("New", "Fresh", "Arrivals", "Just", "Added", "Arrived"),
    "trending": ("Trending", "Popular", "Now", "Everyone", "Hot", "Right", "Watching", "Talk", "Town"),
    "genre": ("Favorite", "Favourite", "Pure", "Essential", "Picks"),
    "hidden_gems": ("Hidden", "Gems", "Gem", "Underrated", "Overlooked", "Under", "Radar"),
    "explore": ("Explore", "Discover", "Try", "Something", "New", "Different", "Venture", "Into"),
}

JOINING_WORDS = (
    "The", "the", "of", "and", "&", "for", "You", "you", "Your", "your", "in", "with", "from", "a", "A", "to",
    "Films", "Movies", "Stories", "Tales", "Classics", "Classic", "Great", "Greatest", "Modern", "Timeless",
    "Must-See", "Night", "Era", "Favorites", "Worth", "Seeing", "Unforgettable", "Beloved", "Epic",
)  # fmt: skip


# Words a title does not end on ("Classic Drama with a").
DANGLING = frozenset((
    "of", "and", "&", "for", "the", "The", "with", "a", "A", "to", "in", "from", "Your", "your", "If", "Like",
    "After", "Into", "Under", "Up", "Right", "Just", "Made", "Spirit", "Similar", "Keep", "Continue", "Try",
))  # fmt: skip


def well_formed(text: str) -> bool:
    """Beyond validation: the title does not end on a joining word nor say a word twice."""
    words = text.split()
    content = [w.lower() for w in words if w not in JOINING_WORDS]
    return bool(words) and words[-1] not in DANGLING and len(set(content)) == len(content)


def allowed_words(facts: TitleFacts) -> list[str]:
    """The words a title for this row may be made of (whole words, in the case given)."""
    words: list[str] = []
    for genre in facts.genres:
        words += GENRE_FORMS.get(genre, (genre,))
    if facts.anchor_title:
        words += re.findall(r"[\w'&:.-]+", facts.anchor_title)
    if facts.decade:
        words.append(facts.decade)
    general = [*ROW_TYPE_WORDS.get(facts.row_type, ()), *JOINING_WORDS]
    words += [w for w in general if not any(mentions(w, g) for g in GENRE_NAMES)]
    return list(dict.fromkeys(w.rstrip(":") for w in words if w.rstrip(":")))


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    end: bool = False  # a whole word ends here


class WordTrie:
    """Allowed words as token-id sequences, each spelled with a leading space (the way a title
    continues ``Title:``)."""

    def __init__(self, tokenizer: Any, words: Iterable[str]) -> None:
        self.root = _Node()
        for word in words:
            node = self.root
            for token in tokenizer.encode(" " + word, add_special_tokens=False):
                node = node.children.setdefault(token, _Node())
            node.end = True

    def walk(self, tokens: Sequence[int]) -> _Node | None:
        """The node after ``tokens`` (words restarting at the root whenever one ends), or None off the trie."""
        node = self.root
        for token in tokens:
            if token in node.children:
                node = node.children[token]
            elif node.end and token in self.root.children:
                node = self.root.children[token]
            else:
                return None
        return node


class TitleLogitsProcessor:
    """A transformers ``LogitsProcessor``: row ``r``'s candidates (rows ``r * per_row`` … of the batch)
    may only spell allowed words, and end only once their text is a valid title."""

    def __init__(
        self,
        tokenizer: Any,
        facts: Sequence[TitleFacts],
        *,
        per_row: int,
        prompt_length: int,
        ends: Sequence[int],
        max_words: int = MAX_WORDS,
    ) -> None:
        self.tokenizer = tokenizer
        self.facts = list(facts)
        self.tries = [WordTrie(tokenizer, allowed_words(f)) for f in self.facts]
        self.per_row = per_row
        self.prompt_length = prompt_length
        self.ends = list(ends)
        self.max_words = min(max_words, MAX_WORDS)
        self._valid: dict[tuple[int, str], bool] = {}

    def can_end(self, row: int, text: str) -> bool:
        """Whether a title may end after ``text``: valid, not ending on a joining word, no word twice."""
        key = (row, text)
        if key not in self._valid:
            self._valid[key] = well_formed(text) and validate_title(text, self.facts[row])[0] is not None
        return self._valid[key]

    def allowed(self, row: int, tokens: Sequence[int]) -> list[int]:
        """The token ids that may come next after ``tokens`` (the candidate's title so far)."""
        trie = self.tries[row]
        node = trie.walk(tokens)
        if node is None:
            return self.ends  # off the word list (cannot happen under this processor): finish, validation refuses
        options = list(node.children)
        if node.end:
            text = self.tokenizer.decode(list(tokens))
            words = len(text.split())
            if words >= self.max_words:
                options = []
            else:
                options += [t for t in trie.root.children if t not in node.children]
            if self.can_end(row, text):
                options += self.ends
        return options or self.ends

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        mask = torch.full_like(scores, float("-inf"))
        for index, sequence in enumerate(input_ids.tolist()):
            generated = sequence[self.prompt_length :]
            if generated and generated[-1] in self.ends:
                mask[index, self.ends] = 0  # finished: padding follows
                continue
            mask[index, self.allowed(index // self.per_row, generated)] = 0
        return scores + mask


class EnoughCandidates:
    """A transformers ``StoppingCriteria``: the whole batch stops once every row has ``enough`` finished
    candidates (the rest are mostly long ones wandering toward the word limit)."""

    def __init__(self, *, per_row: int, prompt_length: int, ends: Sequence[int], enough: int) -> None:
        self.per_row, self.prompt_length, self.ends, self.enough = per_row, prompt_length, set(ends), enough

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        finished = [any(t in self.ends for t in row[self.prompt_length :]) for row in input_ids.tolist()]
        rows = [finished[i : i + self.per_row] for i in range(0, len(finished), self.per_row)]
        done = all(sum(row) >= min(self.enough, self.per_row) for row in rows)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool)


def pick_titles(
    candidates: Sequence[Sequence[tuple[str | None, float]]],
    facts: Sequence[TitleFacts],
    *,
    taken: Iterable[str] = (),
    catalogue: Iterable[str] = (),
) -> list[str | None]:
    """Per row, the best-scored candidate that passes validation and no other row has (rows in order);
    where none does, the best finished one (the caller's validation refuses it with its reason), None
    where no candidate finished. A quick substring test stands in for the catalogue check (it refuses
    at least what the validator's word-bounded one does)."""
    names = [n.lower() for n in catalogue if len(n) >= 5]
    used = {t.lower() for t in taken}
    picked: list[str | None] = []
    for row_candidates, row_facts in zip(candidates, facts, strict=True):
        own = {t.lower() for t in (*row_facts.item_titles, row_facts.anchor_title or "")}
        finished = sorted((c for c in row_candidates if c[0]), key=lambda c: -c[1])
        choice = None
        for text, _ in finished:
            title, _why = validate_title(text or "", row_facts, taken=used) if well_formed(text or "") else (None, "")
            lowered = (title or "").lower()
            if title and not any(n in lowered and n not in own for n in names):
                choice = title
                break
        if choice:
            used.add(choice.lower())
        # none usable: the model's best answer all the same, for the caller's validation to refuse with its
        # reason (None says the row was not answered in time)
        picked.append(choice or (finished[0][0] if finished else None))
    return picked
