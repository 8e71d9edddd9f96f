"""How good a set of titled pages' titles are (issue 13's targets), from the pages alone: a pure function,
so the bench measures what the tests check on hand-built pages.

Definitions (model-written: a shown title whose source is ``model`` or ``cache``; words: lower-cased runs
of letters, digits, hyphens and apostrophes, so "Sci-Fi" and "Children's" are one word and "&" none):

- **model share**: model-written titles over shown titles.
- **valid share**: model-written titles that ``validate_title`` accepts against their row's
  ``TitleFacts`` (from the untitled row, so its template is the real one), the page's other titles and
  the catalogue, over model-written titles (templates are the product's own fallback, not checked: a
  long film's "Because you watched …" is longer than a model title may be).
- **pages with repeats**: pages where two rows show the same title (ignoring case).
- **distinct rows**: the model-written rows, each row (its ``TitleFacts``) counted once: a row that
  recurs (most users share the trending row) gets the same title by design, so variety — the distinct
  share, the stock phrases, the anchor and genre checks and the samples — is measured over distinct rows.
- **distinct share**: distinct model-written titles (ignoring case) across all pages over distinct rows.
- **names anchor**: of the model-written "because you watched" titles, the share that name the anchor
  film (its title without a trailing parenthesis, as a run of whole words) or hold its distinctive
  words (of 4+ characters, not a function word, stock word or genre word): all of them, or two when
  it has more.
- **names genre**: of the model-written genre and explore titles, the share with a word naming one of
  their reason's genres: the genre, its adjective or plural form (``pagegen.llm.grammar``), or a word
  ``title_rules.mentions`` takes for it ("Comedies", "Romantic", "Kids", "Dramas").
- **stock phrase**: a word bigram of a model-written title whose two words are not both facts or
  function words (articles, prepositions, conjunctions, "you" and "your": "for you" is not a stock
  phrase, "your queue" is); a row's facts words are the words naming its ``TitleFacts`` genres (as
  above) and the words of their noun phrases ("Action Movies"), its decade and its anchor film's
  words. Each phrase counts once per row; its share is the distinct rows holding it over all distinct
  rows. ``stock_phrase_share`` is the most common
  one's (0 when none).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pagegen.llm.grammar import GENRE_ADJECTIVES, GENRE_NOUNS, PLURALS
from pagegen.llm.title_rules import STOCK_WORDS, TitleFacts, mentions, validate_title
from pagegen.optimizer import Page

MODEL_SOURCES = ("model", "cache")  # a cached title was written by the model earlier
FUNCTION_WORDS = frozenset(("a", "an", "the", "of", "and", "in", "on", "to", "for", "with", "from", "you", "your"))
SHOWN = 5  # samples, invalid titles and stock phrases listed


@dataclass(frozen=True)
class Compliance:
    """How many rows a specificity rule applies to, and the share of them that keep it (None: none)."""

    rows: int
    share: float | None


@dataclass(frozen=True)
class PhraseShare:
    phrase: str
    rows: int
    share: float  # of distinct rows


@dataclass(frozen=True)
class InvalidTitle:
    title: str
    source: str
    reason: str


@dataclass(frozen=True)
class TitleSample:
    model: str
    template: str


@dataclass(frozen=True)
class TitleQuality:
    pages: int
    rows: int
    model_rows: int
    distinct_rows: int  # model-written rows with facts no earlier row had: what variety is measured over
    model_share: float
    valid_share: float | None  # None without model-written titles
    invalid_from_model: int
    invalid: tuple[InvalidTitle, ...]  # the first few model-written ones
    pages_with_repeats: int
    distinct_share: float | None  # None without model-written titles
    names_anchor: Compliance
    names_genre: Compliance
    stock_phrase_share: float
    stock_phrases: tuple[PhraseShare, ...]  # the most common first
    samples: tuple[TitleSample, ...]  # the first model-written titles beside their templates


def title_quality(pages: Sequence[tuple[Page, Page]], *, catalogue: Sequence[str] = ()) -> TitleQuality:
    """The quality of ``pages``, each (the page with its template titles, the same page titled)."""
    rows = invalid_from_model = repeats = 0
    model_titles: list[str] = []
    invalid: list[InvalidTitle] = []
    samples: list[TitleSample] = []
    anchor_checks: list[bool] = []
    genre_checks: list[bool] = []
    phrases: Counter[str] = Counter()
    seen: set[TitleFacts] = set()
    model_rows = 0
    for page, titled in pages:
        shown = [row.title for row in titled.rows]
        repeats += len({t.lower() for t in shown}) < len(shown)
        for index, (template, row) in enumerate(zip(page.rows, titled.rows, strict=True)):
            rows += 1
            facts = TitleFacts.of(template)
            others = shown[:index] + shown[index + 1 :]
            title, why = validate_title(row.title, facts, taken=others, catalogue=catalogue)
            from_model = row.title_source in MODEL_SOURCES
            if not from_model:
                continue
            model_rows += 1
            if title is None:
                invalid_from_model += 1
                invalid.append(InvalidTitle(row.title, row.title_source, why))
            if facts in seen:
                continue  # the same row again (most users share the trending row): the same title, by design
            seen.add(facts)
            model_titles.append(row.title)
            samples.append(TitleSample(row.title, template.title))
            phrases.update(stock_bigrams(row.title, facts))
            if row.reason.row_type == "because_you_watched":
                anchor_checks.append(names_anchor(row.title, row.reason.anchor_title))
            elif row.reason.row_type in ("genre", "explore"):
                genre_checks.append(names_genre(row.title, row.reason.genres))
    common = sorted(phrases.items(), key=lambda item: (-item[1], item[0]))[:SHOWN]
    stock = tuple(PhraseShare(p, n, _share(n, len(model_titles)) or 0.0) for p, n in common)
    return TitleQuality(
        pages=len(pages),
        rows=rows,
        model_rows=model_rows,
        distinct_rows=len(model_titles),
        model_share=_share(model_rows, rows) or 0.0,
        valid_share=_share(model_rows - invalid_from_model, model_rows),
        invalid_from_model=invalid_from_model,
        invalid=tuple(invalid[:SHOWN]),
        pages_with_repeats=repeats,
        distinct_share=_share(len({t.lower() for t in model_titles}), len(model_titles)),
        names_anchor=Compliance(len(anchor_checks), _share(sum(anchor_checks), len(anchor_checks))),
        names_genre=Compliance(len(genre_checks), _share(sum(genre_checks), len(genre_checks))),
        stock_phrase_share=stock[0].share if stock else 0.0,
        stock_phrases=stock,
        samples=tuple(samples[:SHOWN]),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _words(text: str) -> list[str]:
    """Lower-cased words: runs of letters, digits, hyphens and apostrophes, none at either end."""
    return [w for w in (t.strip("'-") for t in re.findall(r"[\w'-]+", text.lower())) if w]


def _forms(genre: str) -> tuple[str, ...]:
    """The words that name a genre on their own: its name, its adjective and its plural."""
    return (genre, GENRE_ADJECTIVES.get(genre, genre), PLURALS.get(genre, genre))


_GENRE_WORDS = frozenset(w for genre in GENRE_ADJECTIVES for w in _words(" ".join(_forms(genre))))


def stock_bigrams(title: str, facts: TitleFacts) -> set[str]:
    """The title's word bigrams that are not made only of its row's facts and function words."""
    own = set(_words(f"{facts.decade or ''} {facts.anchor_title or ''}")) | FUNCTION_WORDS
    own |= {w for genre in facts.genres for w in _words(" ".join(GENRE_NOUNS.get(genre, ())))}  # "Action Movies"

    def plain(word: str) -> bool:
        return word in own or any(_names(word, genre) for genre in facts.genres)

    said = _words(title)
    return {f"{a} {b}" for a, b in itertools.pairwise(said) if not (plain(a) and plain(b))}


def names_anchor(title: str, anchor: str | None) -> bool:
    """Whether the title names its anchor film or holds its distinctive words (see the module's text)."""
    if not anchor:
        return False
    name, said = _words(re.sub(r"\s*\([^)]*\)\s*$", "", anchor)), _words(title)
    if name and any(said[i : i + len(name)] == name for i in range(len(said) - len(name) + 1)):
        return True
    distinctive = {w for w in name if len(w) >= 4} - FUNCTION_WORDS - STOCK_WORDS - _GENRE_WORDS
    return bool(distinctive) and len(distinctive & set(said)) >= min(2, len(distinctive))


def names_genre(title: str, genres: Sequence[str]) -> bool:
    """Whether the title names one of ``genres`` ("Comedies", "Romantic", "Kids", "Dramas" count)."""
    return any(_names(word, genre) for word in _words(title) for genre in genres)


def _names(word: str, genre: str) -> bool:
    """Whether a word names the genre: the genre, its adjective or plural form (``pagegen.llm.grammar``), or a word
    ``title_rules.mentions`` takes for it."""
    forms = set(_words(" ".join(_forms(genre))))
    return word in forms or word.removesuffix("s") in forms or mentions(word, genre)


def format_title_quality(quality: TitleQuality, targets: Mapping[str, float] | None = None) -> str:
    """A few lines: each figure beside its target where ``targets`` (keyed by field) has one."""
    goals = targets or {}

    def figure(key: str, value: float | None, *, percent: bool = True, most: bool = False) -> str:
        shown = "–" if value is None else f"{value:.1%}" if percent else f"{value:g}"
        if key not in goals:
            return shown
        goal = f"{goals[key]:.0%}" if percent else f"{goals[key]:g}"
        return f"{shown} (target {'≤' if most else '≥'} {goal})"

    q = quality
    lines = [
        f"title quality over {q.rows} rows of {q.pages} pages: model-written {figure('model_share', q.model_share)}; "
        f"valid {figure('valid_share', q.valid_share)} ({q.invalid_from_model} model-written refused); "
        f"pages repeating a title {figure('pages_with_repeats', q.pages_with_repeats, percent=False, most=True)}; "
        f"distinct model titles {figure('distinct_share', q.distinct_share)}",
        f"because-you-watched titles naming their film {figure('names_anchor', q.names_anchor.share)} of "
        f"{q.names_anchor.rows}; genre and explore titles naming their genre "
        f"{figure('names_genre', q.names_genre.share)} of {q.names_genre.rows}; commonest stock phrase on "
        f"{figure('stock_phrase_share', q.stock_phrase_share, most=True)} of distinct rows: "
        + (", ".join(f"{p.phrase!r} {p.rows}" for p in q.stock_phrases) or "none"),
    ]
    if q.samples:
        lines.append("samples (model ← template): " + "; ".join(f"{s.model!r} ← {s.template!r}" for s in q.samples))
    if q.invalid:
        lines.append("invalid: " + "; ".join(f"{i.title!r} ({i.source}: {i.reason})" for i in q.invalid))
    return "\n".join(lines)
