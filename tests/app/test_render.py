"""Page markup: every tile kind keeps its shape, cards have fixed widths, text is escaped."""

import dataclasses
import re

from pagegen.app import render
from pagegen.llm.intent import Understanding
from pagegen.rows import ItemFacts, RowReason
from pagegen.rows.requests import Intent
from pagegen.serving import Asked
from pagegen.vocabulary import ASKED_ROW, ROW_TYPES
from tests.factories import card_item, card_row, cards_page


def test_each_tile_kind_has_its_shape():
    carousel, hero, grid, banner = render.page_html(
        cards_page(
            card_row("carousel", 10),
            card_row("hero", 1, tile=1),
            card_row("grid", 8, columns=4, tile=2),
            card_row("banner", 2, tile=3),
        )
    )
    assert 'class="pg-strip"' in carousel and carousel.count("data-item-id") == 10
    assert 'class="pg-hero"' in hero and hero.count("data-item-id") == 1
    assert "repeat(4, minmax(140px, 1fr))" in grid and grid.count("data-item-id") == 8
    assert 'class="pg-strip pg-banner"' in banner
    assert f"flex:0 0 {render.CARD_WIDTH}px" in render.STYLE  # cards never squeeze to slivers


def test_card_shows_title_year_genres_relevance_why_and_score_parts():
    (html,) = render.page_html(cards_page(card_row("carousel", 3)))
    assert "Heat (1995)" in html and "1995" in html and html.count('class="pg-chip"') == 6
    assert 'style="width:80%"' in html  # the relevance bar
    assert "Similar to Alien (1979) · 80% match" in html
    assert "row score 0.90 = fit 0.84 + popularity bias +0.06" in html
    assert "ease" in html and "title: template" in html  # source and title badges


def test_a_card_leads_with_the_genre_its_row_is_about():
    """Evil Dead II in "1980s Horror": alphabetically its Horror chip would come fourth, after the cut."""
    film = dataclasses.replace(card_item(7, "Evil Dead II (1987)"), genres=("Action", "Adventure", "Comedy", "Horror"))
    row = dataclasses.replace(
        card_row("carousel", 1), reason=RowReason("genre", "ease", genres=("Horror",)), items=(film,)
    )
    chips = re.findall(r'class="pg-chip">([^<]*)<', render.row_html(row))
    assert chips == ["Horror", "Action", "Adventure"]
    plain = dataclasses.replace(card_row("carousel", 2), items=(film, dataclasses.replace(film, item_id=8)))
    assert re.findall(r'class="pg-chip">([^<]*)<', render.row_html(plain))[:3] == ["Action", "Adventure", "Comedy"]


def test_sidebar_history_cards_do_not_take_a_carousel_card_s_basis():
    assert ".pg-history .pg-card {{ flex:0 0 auto;".replace("{{", "{") in render.STYLE


def test_the_held_out_item_and_differences_are_marked():
    (html,) = render.page_html(cards_page(card_row("carousel", 3)), held_out=101, highlight=frozenset({102}))
    assert html.count("pg-hit") == 2 and "watched next" in html  # the card's class and its mark
    marked = re.search(r'class="([^"]*)" data-item-id="101"', html)[1]
    assert "pg-hit" in marked
    assert "pg-diff" in re.search(r'class="([^"]*)" data-item-id="102"', html)[1]


def test_model_text_is_escaped():
    hostile = '<img src=x onerror="alert(1)">Top'
    row = card_row("carousel", 3, title=hostile)
    html = render.row_html(row)
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Top" in html


def test_history_strip():
    html = render.history_html([ItemFacts("Fargo (1996)", 1996, ("Crime",), False, 0.9)])
    assert "Fargo (1996)" in html and ">F<" in html  # the initials art


def test_an_asked_row_says_what_was_asked_and_each_card_why():
    hostile = "<b>80s</b> horror"
    reason = RowReason(ASKED_ROW, "request+ease", request=hostile)
    item = dataclasses.replace(card_item(101), why="Horror, 1987 · 93% like Alien · your taste: 81%")
    row = dataclasses.replace(card_row("carousel", 0), reason=reason, items=(item, card_item(102)))
    html = render.row_html(row)
    assert '<p class="pg-asked">You asked: &lt;b&gt;80s&lt;/b&gt; horror</p>' in html and "<b>" not in html
    assert render.why(row, item) == "Horror, 1987 · 93% like Alien · your taste: 81%"
    assert render.why(row, row.items[1]) == "80% match"  # an item without its own explanation
    assert "pg-asked" not in render.row_html(card_row("carousel", 1))  # only asked rows


def test_every_row_type_has_a_why():
    item = card_item(101)
    for row_type in (*ROW_TYPES, ASKED_ROW):
        row = dataclasses.replace(card_row("carousel", 1), reason=RowReason(row_type, "ease", anchor_title="Alien"))
        assert render.why(row, item).endswith("80% match"), row_type


def test_a_request_is_listed_as_plain_text_with_its_notes():
    hostile = "[click](http://evil.example) :material/home: <i>hi</i>"
    asked = Asked(hostile, "asked:0", "Horror", Understanding(Intent(), "rules"), ("no film called 'Alein'",))
    said = f"Request “{hostile}” gave the row “Horror” (read by rules)"
    assert render.asked_lines(asked) == [said, "· no film called 'Alein'"]  # for st.text: no markdown
