"""Title quality on two hand-built titled pages whose every figure is worked out below, and its rules
(naming the anchor film, naming the genre, stock phrases) one by one."""

from __future__ import annotations

import dataclasses

import pytest

from pagegen.llm.title_quality import (
    Compliance,
    InvalidTitle,
    PhraseShare,
    TitleSample,
    format_title_quality,
    names_anchor,
    names_genre,
    stock_bigrams,
    title_quality,
)
from pagegen.llm.title_rules import TitleFacts
from pagegen.optimizer import Page, PageRow, SolverReport
from pagegen.rows import RowReason
from tests.factories import CATALOGUE, page_item

CATS = "When the Cats Away (Chacun cherche son chat)"
THIN_LINE = "A Thin Line Between Love and Hate"
WONKA = "Willy Wonka and the Chocolate Factory"


def _rows(tile, reason, template, genres, shown=None, source="model"):
    """The row with its template title, and the same row as the titles stage leaves it."""
    items = (page_item(10 + tile, f"Film {tile}", genres, 1995),)
    before = PageRow(tile, "carousel", 1, None, f"row{tile}", template, reason, items, 1.0)
    return before, dataclasses.replace(before, title=shown or template, title_source=source)


def _page(user, *rows):
    report = SolverReport("ilp", "optimal", 1.0)
    return Page(user, "test", tuple(r[0] for r in rows), report), Page(user, "test", tuple(r[1] for r in rows), report)


def byw(anchor):
    return RowReason("because_you_watched", "ease", anchor_item=1, anchor_title=anchor)


PAGES = [
    _page(
        1,
        _rows(0, byw(CATS), f"Because you watched {CATS}", ("Animation", "Comedy"), "More Like When the Cats Away"),
        _rows(1, byw(THIN_LINE), f"Because you watched {THIN_LINE}", ("Comedy",), "Love and Hate Stories"),
        _rows(2, RowReason("genre", "ease", genres=("Comedy",)), "Comedy for you", ("Comedy",), "Comedies for You"),
        _rows(3, RowReason("trending", "trending"), "Trending now", ("Drama",), source="template"),
    ),
    _page(
        2,
        _rows(0, RowReason("genre", "ease", genres=("Children's",)), "Children's for you", ("Children's",),
              "Family Favorites for You"),
        _rows(1, RowReason("explore", "ease", genres=("Mystery",)), "Explore Mystery", ("Mystery",),
              "Discover Something Different"),
        _rows(2, byw("Copycat"), "Because you watched Copycat", ("Comedy",), "Comedies for You", source="cache"),
        _rows(3, byw(WONKA), f"Because you watched {WONKA}", ("Comedy",), source="template"),
        _rows(4, RowReason("top_picks", "ease"), "Top picks for you", ("Drama",), "Family Favorites for You"),
    ),
]  # fmt: skip


def test_quality_of_two_hand_built_pages():
    quality = title_quality(PAGES, catalogue=CATALOGUE)
    assert (quality.pages, quality.rows, quality.model_rows) == (2, 4 + 5, 9 - 2)  # two templates shown
    assert quality.model_share == round(7 / 9, 4)
    # page 2 shows "Family Favorites for You" twice (both refused as repeats); its 9-word template is not
    # the model's, and not checked
    assert quality.valid_share == round((7 - 2) / 7, 4) and quality.invalid_from_model == 2
    assert quality.invalid == (
        InvalidTitle("Family Favorites for You", "model", "repeats another title on the page"),
        InvalidTitle("Family Favorites for You", "model", "repeats another title on the page"),
    )
    assert quality.pages_with_repeats == 1
    # 7 model-written titles, 5 distinct strings ("Comedies for You" and "Family Favorites for You" twice)
    assert quality.distinct_share == round(5 / 7, 4)
    # because-you-watched: Cats Away named; Thin Line only by "hate" (1 of its 4 distinctive words, 2 needed);
    # Copycat not at all. Genre/explore: "Comedies", "Family" (a form of Children's) yes, "Discover …" no
    assert quality.names_anchor == Compliance(rows=3, share=round(1 / 3, 4))
    assert quality.names_genre == Compliance(rows=3, share=round(2 / 3, 4))
    # "for you" (4 rows) is function words only; "family favorites" and "favorites for" on 2, then the
    # phrases of one row in alphabetical order
    assert quality.stock_phrases == (
        PhraseShare("family favorites", 2, round(2 / 7, 4)),
        PhraseShare("favorites for", 2, round(2 / 7, 4)),
        PhraseShare("discover something", 1, round(1 / 7, 4)),
        PhraseShare("hate stories", 1, round(1 / 7, 4)),
        PhraseShare("like when", 1, round(1 / 7, 4)),
    )
    assert quality.stock_phrase_share == round(2 / 7, 4)
    assert quality.samples == (
        TitleSample("More Like When the Cats Away", f"Because you watched {CATS}"),
        TitleSample("Love and Hate Stories", f"Because you watched {THIN_LINE}"),
        TitleSample("Comedies for You", "Comedy for you"),
        TitleSample("Family Favorites for You", "Children's for you"),
        TitleSample("Discover Something Different", "Explore Mystery"),
    )


def test_pages_of_templates_only_have_no_model_figures():
    quality = title_quality([(before, before) for before, _ in PAGES[:1]], catalogue=CATALOGUE)
    assert (quality.model_rows, quality.model_share, quality.valid_share) == (0, 0.0, None)
    assert quality.distinct_share is None and quality.names_anchor == Compliance(0, None)
    assert (quality.stock_phrases, quality.stock_phrase_share, quality.samples) == ((), 0.0, ())
    assert title_quality([]).rows == 0


@pytest.mark.parametrize(
    ("title", "anchor", "named"),
    [
        ("More Like When the Cats Away", CATS, True),  # the name without its parenthesis
        ("If You Liked the Birdcage", "The Birdcage", True),
        ("Birdcage Comedies", "The Birdcage", True),  # its one distinctive word
        ("Thin Line Stories", THIN_LINE, True),  # two of thin, line, between, hate ("love" is a stock word)
        ("Love and Hate Stories", THIN_LINE, False),
        ("Chocolate Factory Classics", WONKA, True),
        ("More Family Comedies", WONKA, False),
        ("More Like Big", "Big", True),  # no distinctive word: the name itself
        ("Big Comedies", "Jack", False),
        ("Anything at All", None, False),
    ],
)
def test_naming_the_anchor_film(title, anchor, named):
    assert names_anchor(title, anchor) is named


def test_a_parenthesis_is_no_part_of_the_name():
    assert not names_anchor("Chacun Cherche Son Chat", CATS)  # its words are the name's only, not the aside's


@pytest.mark.parametrize(
    ("title", "genres", "named"),
    [
        ("Romantic Evenings", ("Romance",), True),
        ("Thrillers for You", ("Thriller",), True),
        ("Kids Favorites", ("Children's",), True),
        ("Noir Nights", ("Film-Noir",), True),
        ("Discover Something New", ("Mystery",), False),
        ("Dramas for You", ("Drama",), True),
        ("Comedies for You", ("Drama",), False),
        ("Comedies for You", (), False),
    ],
)
def test_naming_the_genre(title, genres, named):
    assert names_genre(title, genres) is named


def test_stock_phrases_leave_out_the_rows_own_facts():
    facts = TitleFacts("hidden_gems", None, ("Crime", "Drama"), "1950s", ("Touch of Evil",), "Hidden gems")
    # "of the", "the 1950s", "crime and", "and drama" are facts and function words only
    assert stock_bigrams("Hidden Gems of the 1950s", facts) == {"hidden gems", "gems of"}
    assert stock_bigrams("Crime and Drama", facts) == set()
    assert stock_bigrams("Great Crime Dramas", facts) == {"great crime"}  # "dramas" names Drama


def test_format_puts_each_figure_beside_its_target():
    quality = title_quality(PAGES, catalogue=CATALOGUE)
    targets = {"model_share": 0.8, "pages_with_repeats": 0, "stock_phrase_share": 0.05}
    lines = format_title_quality(quality, targets).splitlines()
    assert lines[0] == (
        "title quality over 9 rows of 2 pages: model-written 77.8% (target ≥ 80%); valid 71.4% "
        "(2 model-written refused); pages repeating a title 1 (target ≤ 0); distinct model titles 71.4%"
    )
    assert lines[1] == (
        "because-you-watched titles naming their film 33.3% of 3; genre and explore titles naming their genre "
        "66.7% of 3; commonest stock phrase on 28.6% (target ≤ 5%) of distinct rows: 'family favorites' 2, "
        "'favorites for' 2, 'discover something' 1, 'hate stories' 1, 'like when' 1"
    )
    assert lines[2].startswith("samples (model ← template): 'More Like When the Cats Away' ← 'Because you watched")
    assert lines[3].startswith("invalid: 'Family Favorites for You' (model: repeats another title on the page); ")
    assert len(lines) == 4 and format_title_quality(title_quality([])).splitlines()[1].endswith("rows: none")


def test_a_row_on_many_pages_counts_once_for_variety():
    trending = _rows(3, RowReason("trending", "trending"), "Trending now", ("Drama",), "Hot Dramas This Week")
    pages = [_page(user, trending) for user in range(4)]
    quality = title_quality(pages, catalogue=CATALOGUE)
    assert (quality.model_rows, quality.distinct_rows, quality.distinct_share) == (4, 1, 1.0)
    assert [p.phrase for p in quality.stock_phrases] == ["dramas this", "hot dramas", "this week"]
    assert {p.share for p in quality.stock_phrases} == {1.0}
