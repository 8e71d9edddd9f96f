"""A Page as HTML: carousels scroll sideways, a hero is one large card, grids and banners keep their
shape. Pure functions from page data to markup, so the app shows it and tests read it.

Every text that reaches the markup (titles from a language model, a person's requests) is escaped: model
output and requests are only ever displayed. Cards have fixed widths, so a row of them scrolls instead of
squeezing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from html import escape

from pagegen.optimizer import Page, PageItem, PageRow
from pagegen.rows import ItemFacts
from pagegen.serving import Asked
from pagegen.vocabulary import ASKED_ROW

CARD_WIDTH = 172  # px: a carousel card; rows scroll sideways rather than squeeze cards
MAX_CHIPS = 3  # genre chips on a card

STYLE = f"""<style>
.pg-row-head {{ display:flex; align-items:baseline; gap:.6rem; margin:.4rem 0 .3rem; }}
.pg-row-title {{ font-size:1.15rem; font-weight:650; margin:0; }}
.pg-asked {{ font-size:.8rem; opacity:.75; margin:-.2rem 0 .3rem; }}
.pg-badge {{ font-size:.72rem; padding:.05rem .45rem; border-radius:.6rem; background:rgba(128,128,128,.18);
  white-space:nowrap; }}
.pg-badge.model {{ background:rgba(70,130,230,.22); }}
.pg-strip {{ display:flex; gap:.75rem; overflow-x:auto; padding:.2rem .1rem .7rem; scroll-snap-type:x proximity; }}
.pg-grid {{ display:grid; gap:.75rem; padding:.2rem .1rem .7rem; }}
.pg-card {{ flex:0 0 {CARD_WIDTH}px; width:{CARD_WIDTH}px; border-radius:.6rem; overflow:hidden;
  border:1px solid rgba(128,128,128,.28); background:rgba(128,128,128,.06); scroll-snap-align:start; }}
.pg-grid .pg-card {{ width:auto; }}
.pg-art {{ height:96px; display:flex; align-items:flex-end; padding:.45rem; color:#fff; font-weight:700;
  font-size:.95rem; line-height:1.1; text-shadow:0 1px 3px rgba(0,0,0,.55); }}
.pg-body {{ padding:.45rem .55rem .55rem; font-size:.8rem; }}
.pg-name {{ font-weight:600; font-size:.86rem; line-height:1.15; }}
.pg-meta {{ opacity:.75; margin:.1rem 0 .25rem; }}
.pg-chip {{ display:inline-block; font-size:.68rem; padding:0 .35rem; margin:0 .2rem .2rem 0; border-radius:.5rem;
  background:rgba(128,128,128,.18); }}
.pg-bar {{ height:5px; border-radius:3px; background:rgba(128,128,128,.22); margin:.25rem 0; }}
.pg-bar > div {{ height:5px; border-radius:3px; background:#3b82f6; }}
.pg-why {{ opacity:.8; font-size:.74rem; line-height:1.2; }}
.pg-hit {{ border:2px solid #f59e0b; box-shadow:0 0 0 2px rgba(245,158,11,.35); }}
.pg-hit-mark {{ display:inline-block; background:#f59e0b; color:#111; font-size:.68rem; font-weight:700;
  padding:0 .35rem; border-radius:.4rem; margin-bottom:.2rem; }}
.pg-diff {{ outline:3px solid #ec4899; outline-offset:-3px; }}
.pg-hero {{ display:flex; gap:1rem; border-radius:.8rem; overflow:hidden; border:1px solid rgba(128,128,128,.28);
  margin-bottom:.7rem; }}
.pg-hero .pg-art {{ flex:0 0 46%; height:220px; font-size:1.6rem; }}
.pg-hero .pg-body {{ font-size:.95rem; padding:1rem; }}
.pg-hero .pg-name {{ font-size:1.35rem; }}
.pg-banner .pg-card {{ flex:1 0 300px; width:auto; }}
.pg-banner .pg-art {{ height:120px; font-size:1.2rem; }}
.pg-history {{ display:flex; flex-direction:column; gap:.3rem; }}
.pg-history .pg-card {{ flex:0 0 auto; width:auto; display:flex; }}
.pg-history .pg-art {{ flex:0 0 44px; height:44px; font-size:.7rem; padding:.2rem; }}
.pg-history .pg-body {{ padding:.2rem .45rem; font-size:.74rem; }}
</style>"""

# Two colours per genre for the generated card art (no dataset here links posters).
_GENRE_COLOURS = {
    "Action": ("#b91c1c", "#f97316"), "Adventure": ("#c2410c", "#eab308"), "Animation": ("#7c3aed", "#ec4899"),
    "Children's": ("#0ea5e9", "#22c55e"), "Children": ("#0ea5e9", "#22c55e"), "Comedy": ("#ca8a04", "#f472b6"),
    "Crime": ("#1f2937", "#b45309"), "Documentary": ("#065f46", "#84cc16"), "Drama": ("#1e3a8a", "#9333ea"),
    "Fantasy": ("#6d28d9", "#14b8a6"), "Film-Noir": ("#111827", "#6b7280"), "Horror": ("#450a0a", "#991b1b"),
    "Musical": ("#be185d", "#f59e0b"), "Mystery": ("#312e81", "#0f766e"), "Romance": ("#be123c", "#fb7185"),
    "Sci-Fi": ("#0f172a", "#0891b2"), "Thriller": ("#3f1d38", "#dc2626"), "War": ("#3f3f46", "#78716c"),
    "Western": ("#78350f", "#d97706"), "IMAX": ("#0c4a6e", "#38bdf8"),
}  # fmt: skip


def page_html(page: Page, *, held_out: int | None = None, highlight: frozenset[int] = frozenset()) -> list[str]:
    """One block of HTML per row of ``page`` (the app places each in its own slot, so a row's title can
    be replaced when the language model answers). ``held_out`` is marked as the hit, ``highlight``ed
    items get a coloured outline (the compare view's differences)."""
    return [row_html(row, held_out=held_out, highlight=highlight) for row in page.rows]


def row_html(row: PageRow, *, held_out: int | None = None, highlight: frozenset[int] = frozenset()) -> str:
    head = (
        f'<div class="pg-row-head"><p class="pg-row-title">{escape(row.title)}</p>'
        f'<span class="pg-badge" title="the generator behind this row">{escape(row.reason.source)}</span>'
        f'<span class="pg-badge {"model" if row.title_source != "template" else ""}" '
        f'title="{escape(row.title_note or "where the title came from")}">title: {escape(row.title_source)}</span></div>'
    )
    if row.reason.request is not None:
        head += f'<p class="pg-asked">You asked: {escape(row.reason.request)}</p>'
    if row.order_note:
        head += f'<p class="pg-asked">{escape(row.order_note)}</p>'
    themes = _row_genres(row)
    cards = [
        card_html(item, row, hit=item.item_id == held_out, diff=item.item_id in highlight, themes=themes)
        for item in row.items
    ]
    if row.kind == "hero":
        body = cards[0].replace('class="pg-card', 'class="pg-hero', 1)
    elif row.kind == "grid":
        columns = row.columns or 4
        body = f'<div class="pg-grid" style="grid-template-columns:repeat({columns}, minmax(140px, 1fr))">{"".join(cards)}</div>'
    else:
        extra = " pg-banner" if row.kind == "banner" else ""
        body = f'<div class="pg-strip{extra}">{"".join(cards)}</div>'
    return f'<section class="pg-row pg-kind-{row.kind}" data-row-id="{escape(row.row_id)}">{head}{body}</section>'


def card_html(
    item: PageItem, row: PageRow, *, hit: bool = False, diff: bool = False, themes: Sequence[str] = ()
) -> str:
    """One card; its genre chips (at most ``MAX_CHIPS``) lead with the genres of ``themes`` (the row's,
    most shared first), so a "1980s Horror" row's films show their Horror chip."""
    classes = "pg-card" + (" pg-hit" if hit else "") + (" pg-diff" if diff else "")
    year = f" · {item.year}" if item.year else ""
    rank = {genre: i for i, genre in enumerate(themes)}
    shown = sorted(item.genres, key=lambda genre: (rank.get(genre, len(rank)), genre))[:MAX_CHIPS]
    chips = "".join(f'<span class="pg-chip">{escape(genre)}</span>' for genre in shown)
    parts = (
        f"row score {item.score:.2f} = fit {item.score - item.popularity_bias:.2f} + popularity bias "
        f"{item.popularity_bias:+.2f}; your relevance {item.relevance:.0%}; attention {item.attention:.2f}"
    )
    mark = '<span class="pg-hit-mark">▶ watched next</span><br>' if hit else ""
    return (
        f'<div class="{classes}" data-item-id="{item.item_id}" title="{escape(parts)}">'
        f'<div class="pg-art" style="background:{_gradient(item.genres, item.title)}">{escape(_short(item.title))}</div>'
        f'<div class="pg-body">{mark}<div class="pg-name">{escape(item.title)}</div>'
        f'<div class="pg-meta">{"new · " if item.is_new else ""}{escape(year.lstrip(" ·"))}</div>{chips}'
        f'<div class="pg-bar" title="relevance {item.relevance:.0%}"><div style="width:{item.relevance:.0%}"></div></div>'
        f'<div class="pg-why">{escape(why(row, item))}</div></div></div>'
    )


def _row_genres(row: PageRow) -> list[str]:
    """The row's genres, those its reason names first, then by how many of its cards have them."""
    counts = Counter(genre for item in row.items for genre in item.genres)
    named = [genre for genre in row.reason.genres if genre in counts]
    return named + sorted(set(counts) - set(named), key=lambda genre: (-counts[genre], genre))


def history_html(items: Sequence[ItemFacts]) -> str:
    """The sidebar strip of a user's recent history: small generated cards, newest first."""
    cards = "".join(
        f'<div class="pg-card"><div class="pg-art" style="background:{_gradient(item.genres, item.title)}">'
        f"{escape(_initials(item.title))}</div>"
        f'<div class="pg-body"><div class="pg-name">{escape(item.title)}</div></div></div>'
        for item in items
    )
    return f'<div class="pg-history">{cards}</div>'


def why(row: PageRow, item: PageItem) -> str:
    """The card's one-line explanation, from the row's reason and the item's score parts."""
    reason = row.reason
    match = f"{item.relevance:.0%} match"
    lines = {
        "top_picks": f"Your top picks · {match}",
        "up_next": f"Likely next after your latest · {match}",
        "because_you_watched": f"Similar to {reason.anchor_title} · {match}",
        "genre": f"{', '.join(reason.genres)} you may like · {match}",
        "new_for_you": f"New in the catalogue · {match}",
        "trending": f"Popular lately · {match}",
        "hidden_gems": f"Less known ({item.popularity:.0%} popularity) · {match}",
        "explore": f"Outside your usual genres · {match}",
        ASKED_ROW: item.why or match,  # how the item matches the request, and what it gives way on
    }
    return lines.get(reason.row_type, match)


def asked_lines(asked: Asked) -> list[str]:
    """One request as Home lists it above the rows: what was asked, the row it gave and who read it, then
    what was not understood or given way on. Plain text, for ``st.text``: Streamlit's markdown would
    still make links and icons of a request's words, escaped or not. The row itself says "You asked: …",
    so this line does not say it again."""
    said = f"Request “{asked.request}” gave the row “{asked.title}” (read by {asked.understanding.parser})"
    return [said, *(f"· {note}" for note in asked.notes)]


def _short(title: str) -> str:
    """The film's name without its year suffix, for the card art."""
    name = title.rsplit(" (", 1)[0] if title.endswith(")") else title
    return name if len(name) <= 40 else name[:38] + "…"


def _initials(title: str) -> str:
    return "".join(word[0] for word in _short(title).split()[:3] if word[:1].isalnum()).upper() or "?"


def _gradient(genres: tuple[str, ...], title: str) -> str:
    """A stable gradient per film: its first genre's colours, at an angle from its title's hash."""
    start, end = _GENRE_COLOURS.get(genres[0] if genres else "", ("#334155", "#64748b"))
    angle = int(hashlib.sha1(title.encode()).hexdigest()[:4], 16) % 360
    return f"linear-gradient({angle}deg, {start}, {end})"
