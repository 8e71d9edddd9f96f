"""What each setting slider does on a layout: its effective rule at a value, and its steps, the values at
which that rule changes. A slider offers only its steps, so every move changes what the page is held to;
a value between steps (a layout file, a link, ``--set``) acts as the step at or below it.

The genre share is the example: a tile of ``n`` cards shows at most ``max(1, ⌊share × n⌋)`` cards of one
genre, so on carousels of six every share from 0.1 to 0.33 is "at most 1 of 6". Its steps are the shares
``c / n`` where a tile's cap becomes ``c``; the other sliders stop where a larger value could no longer
act (more rows of one type than the row builder makes, more genres than the catalogue has).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pagegen.layout.model import CONSTRAINT_RANGES, PAGE_SIZE_RANGES, Layout, Range
from pagegen.rows.candidates import ANCHORS, GENRE_ROWS, tile_genre_cap
from pagegen.vocabulary import ASKED_ROW, MAX_ASKED

SLIDER_RANGES = {**CONSTRAINT_RANGES, **PAGE_SIZE_RANGES}  # every slider's bounds, by setting name
# The most rows of one type the row builder makes; every other type makes one row.
ROWS_OF_TYPE = {"because_you_watched": ANCHORS, "genre": GENRE_ROWS, ASKED_ROW: MAX_ASKED}
SLIDER_LABELS = {  # each slider's words in the sidebar, and each rule's when a page gives way on it
    "max_genre_share": "Diversity: max genre share per row",
    "min_page_genres": "Genres the page covers (at least)",
    "popularity_beta": "Popularity bias β (− long tail, + popular)",
    "min_new_items": "Exploration: new items on the page (at least)",
    "min_relevance_quantile": "Minimum personal relevance (percentile)",
    "dedup_penalty": "Penalty per repeated item (soft de-duplication)",
    "max_rows_per_type": "Rows of one type (at most)",
    "rows": "Rows on the page",
    "slots": "Cards per carousel",
}
# The page rules that are not sliders, in the same words (``rule_label``).
RULE_LABELS = {
    **SLIDER_LABELS,
    "required_row_types": "Rows the layout requires",
    "pinned": "Rows the layout pins to a tile",
    "fill_every_tile": "Every tile filled",
    "asked_rows": "Rows you asked for",
    "dedup": "No film twice on the page",
}
_DECIMALS = 4  # steps are written with this many decimals (a link holds 0.3334, not 0.3333333333333333)


@dataclass(frozen=True)
class EffectiveRule:
    """What a setting holds the page to on one layout. Two rules are equal when they hold the page to
    the same thing (``terms``), whatever the slider value that gave them."""

    setting: str
    terms: tuple[Any, ...]  # e.g. the genre share's (cards of a tile, cap) pairs, widest tile first
    step: float = field(compare=False)  # the slider step the value acts as
    text: str = field(compare=False)

    def describe(self) -> str:
        """The rule in one line for people: "at most 2 of 10 cards per genre (…)"."""
        return self.text


def slider_steps(setting: str, layout: Layout, *, catalogue_genres: Sequence[str] = ()) -> tuple[float, ...]:
    """The values ``setting``'s slider offers on ``layout`` (its tiles, allowed row types and the
    constraints it is shown with), lowest first: each gives a different effective rule. ``catalogue_genres``:
    the genres of the dataset's catalogue, where known (they bound ``min_page_genres``)."""
    bounds = _bounds(setting)
    if setting == "max_genre_share":
        breaks = {_up(c / n) for n in _tile_sizes(layout) for c in range(2, n + 1)}
        return tuple(sorted({bounds.low} | {b for b in breaks if bounds.low < b <= bounds.high}))
    if setting == "min_page_genres":  # at least one genre is any page: 1 is no rule, as 0 is
        top = min(bounds.high, layout.total_slots, _genre_count(layout, catalogue_genres))
        return (0, *range(2, top + 1))
    if setting == "min_new_items":
        return tuple(range(bounds.low, min(bounds.high, layout.total_slots) + 1))
    if setting == "max_rows_per_type":
        return tuple(range(bounds.low, max(min(bounds.high, _most_of_one_type(layout)), bounds.low) + 1))
    if setting == "rows":  # asked rows come with tiles of their own
        made = [
            min(_rows_of(t), layout.constraints.max_rows_per_type) for t in layout.allowed_row_types if t != ASKED_ROW
        ]
        top = min(bounds.high, sum(made))
        return tuple(range(bounds.low, max(top, bounds.low) + 1))
    if setting == "slots":
        return _grid(bounds) if any(tile.kind == "carousel" for tile in layout.tiles) else ()
    return _grid(bounds)  # popularity_beta, min_relevance_quantile, dedup_penalty: every step a new weight


def snap(setting: str, layout: Layout, value: float, *, catalogue_genres: Sequence[str] = ()) -> float:
    """The step ``value`` acts as on ``layout``: the highest step at or below it (the lowest step for a
    value below them all). What the sidebar shows for a layout file's or a link's value."""
    steps = slider_steps(setting, layout, catalogue_genres=catalogue_genres)
    if not steps:
        return value
    return max((step for step in steps if step <= value + 1e-9), default=steps[0])


def effective_rule(
    setting: str, layout: Layout, value: float, *, catalogue_genres: Sequence[str] = ()
) -> EffectiveRule:
    """What ``setting`` at ``value`` holds the page on ``layout`` to, and how to say it."""
    step = snap(setting, layout, value, catalogue_genres=catalogue_genres)
    terms, text = _RULES[setting](layout, step)
    return EffectiveRule(setting, terms, step, text)


def inactive_reason(setting: str, layout: Layout) -> str | None:
    """Why ``setting`` does nothing on ``layout`` whatever its value (the sidebar disables its slider and
    says so); None when it acts."""
    if setting == "dedup_penalty" and layout.constraints.dedup == "hard":
        return "Only soft de-duplication repeats items; with hard de-duplication no card is ever charged."
    return None


def rule_label(constraint: str) -> str:
    """A rule's name as a person reads it, the slider's own label where it has one:
    ``tiles[2].max_genre_share.Drama`` → "Diversity: max genre share per row (Drama, row 3)"."""
    match = re.fullmatch(r"(?:tiles\[(\d+)\]\.)?(\w+?)(?:\.(.+))?", constraint)
    if match is None or match[2] not in RULE_LABELS:
        return constraint
    tile, key, detail = match.groups()
    where = [part for part in (detail and detail.replace("_", " "), tile and f"row {int(tile) + 1}") if part]
    return f"{RULE_LABELS[key]} ({', '.join(where)})" if where else RULE_LABELS[key]


def _genre_share(layout: Layout, share: float) -> tuple[tuple[Any, ...], str]:
    caps = tuple((n, tile_genre_cap(share, n)) for n in sorted(_tile_sizes(layout), reverse=True))
    if not caps:
        return (), "no tile holds two cards: the genre share never applies"
    listed = ", ".join(f"{cap} of {n}" for n, cap in caps)
    return caps, f"at most {listed} cards per genre (a genre row's own genre aside)"


def _page_genres(layout: Layout, genres: float) -> tuple[tuple[Any, ...], str]:
    return (genres,), f"at least {genres} genres on the page" if genres else "no minimum of genres on the page"


def _beta(layout: Layout, beta: float) -> tuple[tuple[Any, ...], str]:
    if beta == 0:
        return (0.0,), "no popularity bias: scores are the user's relevance alone"
    leaning = "popular titles" if beta > 0 else "the long tail"
    return (beta,), f"score {beta:+.1f} × popularity percentile: leans to {leaning}"


def _new_items(layout: Layout, count: float) -> tuple[tuple[Any, ...], str]:
    return (count,), f"at least {count} new titles on the page" if count else "no minimum of new titles"


def _relevance(layout: Layout, quantile: float) -> tuple[tuple[Any, ...], str]:
    if quantile == 0:
        return (0.0,), "no relevance floor: any unseen title may show"
    return (quantile,), f"only titles at or above the user's {quantile:.0%} relevance percentile"


def _penalty(layout: Layout, penalty: float) -> tuple[tuple[Any, ...], str]:
    if layout.constraints.dedup == "hard":
        return ("hard",), "no title twice on the page (hard de-duplication)"
    return (penalty,), f"each repeated card costs {penalty:.2f} of score"


def _rows_per_type(layout: Layout, count: float) -> tuple[tuple[Any, ...], str]:
    return (count,), f"at most {count} row{'s' if count > 1 else ''} of one type"


def _rows(layout: Layout, count: float) -> tuple[tuple[Any, ...], str]:
    return (count,), f"{count} row{'s' if count > 1 else ''} on the page"


def _slots(layout: Layout, count: float) -> tuple[tuple[Any, ...], str]:
    return (count,), f"carousels of {count} cards"


_RULES = {
    "max_genre_share": _genre_share,
    "min_page_genres": _page_genres,
    "popularity_beta": _beta,
    "min_new_items": _new_items,
    "min_relevance_quantile": _relevance,
    "dedup_penalty": _penalty,
    "max_rows_per_type": _rows_per_type,
    "rows": _rows,
    "slots": _slots,
}


def _bounds(setting: str) -> Range:
    if setting not in SLIDER_RANGES:
        raise KeyError(f"{setting!r} is not a slider; sliders: {', '.join(SLIDER_RANGES)}")
    return SLIDER_RANGES[setting]


def _grid(bounds: Range) -> tuple[float, ...]:
    """The range's own steps, from low to high (and high itself when the steps stop short of it)."""
    count = math.floor((bounds.high - bounds.low) / bounds.step + 1e-9)
    if bounds.integer:
        values = [bounds.low + k * bounds.step for k in range(count + 1)]
    else:
        values = [round(bounds.low + k * bounds.step, _DECIMALS) for k in range(count + 1)]
    if values[-1] < bounds.high:
        values.append(bounds.high)
    return tuple(values)


def _up(fraction: float) -> float:
    """``fraction`` rounded up to ``_DECIMALS`` decimals: still the same cap, and short in a link."""
    scale = 10**_DECIMALS
    return math.ceil(round(fraction * scale, 6)) / scale


def _tile_sizes(layout: Layout) -> set[int]:
    """The card counts of the layout's tiles that a genre cap can bind (a tile of one card never)."""
    return {tile.slots for tile in layout.tiles if tile.slots > 1}


def _genre_count(layout: Layout, catalogue_genres: Sequence[str]) -> int:
    """How many genres a page on ``layout`` can cover: the catalogue's (the layout's allowed ones among
    them), or the setting's own bound when neither is known."""
    allowed, known = set(layout.constraints.allowed_genres), set(catalogue_genres)
    if allowed and known:
        return len(allowed & known)
    return len(allowed or known) or int(_bounds("min_page_genres").high)


def _rows_of(row_type: str) -> int:
    return ROWS_OF_TYPE.get(row_type, 1)


def _most_of_one_type(layout: Layout) -> int:
    return max((_rows_of(t) for t in layout.allowed_row_types), default=1)
