"""Candidate rows: reasons, titles, exclusions and the popularity slider, on a small synthetic set."""

from collections import Counter

import numpy as np
import pytest

from pagegen.data import SynthConfig, load_dataset, synthesize, write_dataset
from pagegen.data import schema as S
from pagegen.errors import ConfigError
from pagegen.generators import EASE, Popularity, SASRec, Trending, Validation, build_training_data
from pagegen.ranker import fit_ranker
from pagegen.ranking import percentiles
from pagegen.rows import RowBuilder, RowReason, RowRules, plain_title
from pagegen.rows.candidates import EXPLORE_SHARE, GEM_POPULARITY, GIVE_WAY, popularity_tilt
from pagegen.rows.requests import Intent


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rows")
    write_dataset(
        directory, "synth", synthesize(SynthConfig(users=120, items=90, interactions=3000, seed=11)), source="test"
    )
    dataset = load_dataset("synth", directory)
    data = build_training_data(dataset, dataset.interactions, split="all")
    generators = {
        "ease": EASE(l2=10.0).fit(data),
        "sasrec": SASRec(hidden=16, layers=1, heads=1, max_len=10, max_epochs=2).fit(data),
        "popularity": Popularity().fit(data),
        "trending": Trending().fit(data),
    }
    histories = [h for h in data.histories() if len(h) > 1]
    validation = Validation([h[:-1] for h in histories], np.array([h[-1] for h in histories]))
    return data, RowBuilder(data, generators, fit_ranker(generators, data, validation), per_row=12)


def test_percentiles_known_answer():
    # the two 0.3s hold ranks 1 and 2 between them: each gets the middle, 1.5
    assert percentiles(np.array([0.1, 0.5, 0.3, 0.3])).tolist() == pytest.approx([0 / 3, 3 / 3, 1.5 / 3, 1.5 / 3])


def test_every_row_scores_its_cards_with_the_rankers_probability(built):
    # Rows differ in which items they hold (their theme), never in what a card is worth: the ranker's
    # P(next item), so the optimizer can compare a trending card with a top pick.
    data, builder = built
    history = data.history(int(data.user_ids[7]))
    candidates = builder.build(history)
    probability = builder.probabilities(history)
    assert probability[history].sum() == 0 and probability.sum() == pytest.approx(1.0)
    assert candidates.probability.tolist() == pytest.approx(probability.tolist())
    for row in candidates.rows:
        expected = [float(probability[data.item_index(item)]) for item in row.items]
        assert list(row.scores) == pytest.approx(expected, abs=1e-9), row.row_id
    top = next(row for row in candidates.rows if row.row_id == "top_picks")
    unseen = np.setdiff1d(np.arange(data.n_items), history)
    assert top.scores[0] == pytest.approx(float(probability[unseen].max()))  # the best card of the page


def test_the_popularity_slider_tilts_card_values_by_popularity():
    # β = 1: an item at the 100th popularity percentile is worth e^(4 · 0.5) times its probability,
    # one at the median exactly its probability, and β = −1 mirrors it.
    assert popularity_tilt(np.array([1.0, 0.5, 0.0]), 1.0) == pytest.approx([np.exp(2.0), 1.0, np.exp(-2.0)])
    assert popularity_tilt(1.0, -1.0) == pytest.approx(np.exp(-2.0))


def test_rows_cover_the_row_types_and_never_show_seen_items(built):
    data, builder = built
    user = int(data.user_ids[0])
    history = data.history(user)
    rows = builder.build(history).rows
    types = {row.reason.row_type for row in rows}
    assert types >= {"top_picks", "up_next", "trending", "because_you_watched", "genre", "hidden_gems"}
    seen = set(data.item_ids[history].tolist())
    for row in rows:
        assert not seen & set(row.items), row.row_id
        assert list(row.scores) == sorted(row.scores, reverse=True) and len(row.items) <= 12
    assert len({row.row_id for row in rows}) == len(rows)
    assert len({row.title for row in rows}) == len(rows)  # plain titles are distinct on a page


def test_because_you_watched_anchors_on_the_latest_distinct_items(built):
    data, builder = built
    user = int(data.user_ids[1])
    history = data.history(user)
    anchors = [
        row.reason.anchor_item for row in builder.build(history).rows if row.reason.row_type == "because_you_watched"
    ]
    expected = list(dict.fromkeys(data.item_ids[history][::-1].tolist()))[:3]
    assert anchors == expected


def test_genre_rows_are_about_genres_that_can_fill_a_tile_the_layouts_own_after_the_users(built):
    # A kids-like page (one allowed genre): the user's favourite genres hold few items of it, so their
    # rows could never fill a tile; the row of the layout's own genre stands in.
    data, builder = built
    history = data.history(int(data.user_ids[2]))
    catalogue = Counter(g for genres in data.catalogue[S.GENRES].to_list() for g in genres)
    allowed = catalogue.most_common()[3][0]
    rules = RowRules(allowed_genres=(allowed,), tile_slots=8)
    genre_rows = [r for r in builder.build(history, rules=rules).rows if r.reason.row_type == "genre"]
    assert genre_rows and all(len(row.items) >= 8 for row in genre_rows)
    assert f"genre:{allowed}" in {row.row_id for row in genre_rows}


def test_because_you_watched_anchors_only_on_items_the_layout_allows(built):
    # A kids page never says "because you watched" a film it would not show.
    data, builder = built
    history = data.history(int(data.user_ids[1]))
    genres = dict(zip(data.item_ids.tolist(), data.catalogue[S.GENRES].to_list(), strict=True))
    latest = list(dict.fromkeys(data.item_ids[history][::-1].tolist()))
    allowed = genres[latest[1]][0]  # the second-latest item's genre: the latest may lack it
    rows = builder.build(history, rules=RowRules(allowed_genres=(allowed,))).rows
    anchors = [row.reason.anchor_item for row in rows if row.reason.row_type == "because_you_watched"]
    assert anchors and all(allowed in genres[anchor] for anchor in anchors)
    expected = [item for item in latest if allowed in genres[item]][:3]
    assert anchors == expected


def test_genre_explore_new_and_gem_rows_keep_to_their_items(built):
    data, builder = built
    user = int(data.user_ids[2])
    history = data.history(user)
    rows = {row.row_id: row for row in builder.build(history).rows}
    genres = dict(zip(data.item_ids.tolist(), data.catalogue["genres"].to_list(), strict=True))
    types = {row.reason.row_type for row in rows.values()}
    assert types >= {"genre", "explore", "new_for_you", "hidden_gems"}  # each check below has a row to check
    for row in rows.values():
        if row.reason.row_type in ("genre", "explore"):
            assert all(row.reason.genres[0] in genres[item] for item in row.items)
        if row.reason.row_type == "new_for_you":
            assert all(builder.is_new[data.item_index(item)] for item in row.items)
        if row.reason.row_type == "hidden_gems":
            assert all(builder.popularity[data.item_index(item)] < GEM_POPULARITY for item in row.items)
    watched = [g for item in data.item_ids[history].tolist() for g in genres[item] if g != "unknown"]
    for row in (row for row in rows.values() if row.reason.row_type == "explore"):
        assert watched.count(row.reason.genres[0]) / len(watched) < EXPLORE_SHARE  # a genre the user barely knows


def test_popularity_slider_moves_top_picks_along_the_popularity_axis(built):
    data, builder = built
    history = data.history(int(data.user_ids[3]))

    def mean_popularity(beta):
        top = next(row for row in builder.build(history, beta=beta).rows if row.row_id == "top_picks")
        return float(np.mean([builder.popularity[data.item_index(item)] for item in top.items]))

    assert mean_popularity(-1.0) < mean_popularity(0.0) < mean_popularity(1.0)


def test_a_user_without_history_gets_popular_rows(built):
    _, builder = built
    rows = builder.build(np.array([], dtype=np.int64)).rows
    assert {row.reason.row_type for row in rows} >= {"top_picks", "trending"}
    assert not any(row.reason.row_type in ("because_you_watched", "genre", "up_next") for row in rows)


def test_plain_titles_come_from_the_reason():
    assert (
        plain_title(RowReason("because_you_watched", "ease", anchor_item=1, anchor_title="Alien"))
        == "Because you watched Alien"
    )
    assert plain_title(RowReason("genre", "ease", genres=("Sci-Fi",))) == "Sci-Fi for you"
    assert plain_title(RowReason("explore", "popularity", genres=("Film-Noir",))) == "Explore Film-Noir"


def test_missing_generators_are_named(built):
    data, _ = built
    with pytest.raises(ConfigError, match="candidate rows need the generators ease, trending"):
        RowBuilder(data, {"popularity": Popularity().fit(data)}, built[1].ranker)


def test_rows_are_built_within_the_layouts_item_rules(built):
    data, builder = built
    history = data.history(int(data.user_ids[3]))
    rules = RowRules(allowed_genres=("Comedy",), min_relevance=0.6)
    candidates = builder.build(history, rules=rules, depth=8)
    relevance = dict(zip(data.item_ids.tolist(), percentiles(builder.probabilities(history)).tolist(), strict=True))
    assert any(row.items for row in candidates.rows)  # the rules leave something to check
    for row in candidates.rows:
        assert len(row.items) <= 8
        for item in row.items:
            assert "Comedy" in data.catalogue[S.GENRES][data.item_index(item)]
            assert relevance[item] >= 0.6 - 1e-6
    assert candidates.relevance_floor == 0.6


def test_rows_hold_disjoint_full_tiles_within_the_genre_share(built):
    # With a share of 0.25 on tiles of 4 cards, one card per genre (its own aside) in each round of four:
    # every round of the row's candidates is a full tile that keeps the share by itself.
    data, builder = built
    history = data.history(int(data.user_ids[4]))
    rows = builder.build(history, rules=RowRules(max_genre_share=0.25, tile_slots=4), depth=8).rows
    assert any(len(row.items) == 8 for row in rows)  # two whole rounds somewhere
    for row in rows:
        genres = [set(data.catalogue[S.GENRES][data.item_index(item)]) - set(row.reason.genres) for item in row.items]
        counts = Counter(g for item in genres for g in item)
        assert all(count <= 2 for count in counts.values()), row.row_id  # two rounds of 4, one card each


def test_the_relevance_floor_gives_way_when_too_few_items_pass_it(built):
    data, builder = built
    history = data.history(int(data.user_ids[5]))
    unseen = data.n_items - len(set(history.tolist()))
    strict = builder.build(history, rules=RowRules(min_relevance=0.95), depth=40)
    assert strict.relevance_floor == 0.95
    # Asking for as many items as the user has not seen takes the floor down to the least relevant one.
    relaxed = builder.build(history, rules=RowRules(min_relevance=0.95, min_items=unseen), depth=200)
    assert relaxed.relevance_floor < 0.95
    top = next(row for row in relaxed.rows if row.row_id == "top_picks")
    assert len(top.items) == unseen


# -- the row a user asks for ------------------------------------------------------------------------


def _asked(builder, history, intent, **options):
    options = {"text_scores": None, "row_id": "asked:0", "title": "Asked", "request": "asked", **options}
    return builder.asked(history, intent, **options)


def _genres_of(data, item_id):
    return set(data.catalogue[S.GENRES][data.item_index(item_id)])


def test_an_asked_row_holds_unseen_items_of_the_asked_genre_best_first(built):
    data, builder = built
    user = int(data.user_ids[4])
    history = data.history(user)
    genre = Counter(g for genres in data.catalogue[S.GENRES].to_list() for g in genres).most_common(1)[0][0]
    row = _asked(builder, history, Intent(genres=(genre,)), request="more of it")
    seen = set(data.item_ids[history].tolist())
    assert row.reason.row_type == "asked" and row.reason.request == "more of it" and row.row_id == "asked:0"
    assert row.items and not seen & set(row.items) and len(row.items) <= 12
    assert all(genre in _genres_of(data, item) for item in row.items)
    assert list(row.scores) == sorted(row.scores, reverse=True)
    assert len(row.explanations) == len(row.items) and all("your taste" in why for why in row.explanations)


def test_an_asked_row_ranks_full_matches_first_and_says_what_the_rest_gave_way_on(built):
    data, builder = built
    history = data.history(int(data.user_ids[5]))
    years = [y for y in data.catalogue[S.YEAR].to_list() if y is not None]
    rare = Intent(years=(min(years), min(years)))  # the oldest year: a handful of films at most
    row = _asked(builder, history, rare)
    in_years = [item for item in row.items if data.catalogue[S.YEAR][data.item_index(item)] == min(years)]
    assert len(row.items) == 12 and 0 < len(in_years) < 12  # filled to the depth from the lower tiers
    assert list(row.items[: len(in_years)]) == in_years  # the films of the asked year come first
    gave_way = [why for why in row.explanations if why.endswith(tuple(short for short, _ in GIVE_WAY))]
    assert len(gave_way) == 12 - len(in_years)


def test_an_asked_row_never_shows_avoided_genres_or_the_films_it_names(built):
    data, builder = built
    history = data.history(int(data.user_ids[6]))
    counts = Counter(g for genres in data.catalogue[S.GENRES].to_list() for g in genres).most_common(2)
    liked = int(data.item_ids[0])
    row = _asked(builder, history, Intent(like=(liked,), avoid_genres=(counts[1][0],)), rules=RowRules(tile_slots=5))
    assert liked not in row.items and row.reason.anchor_item == liked
    assert all(counts[1][0] not in _genres_of(data, item) for item in row.items)
    assert all(f"like {data.catalogue[S.TITLE][0]}" in why for why in row.explanations)


def test_two_users_asking_the_same_get_their_own_rows(built):
    data, builder = built
    genre = Counter(g for genres in data.catalogue[S.GENRES].to_list() for g in genres).most_common(1)[0][0]
    rows = [_asked(builder, data.history(int(user)), Intent(genres=(genre,))).items for user in data.user_ids[:2]]
    assert rows[0] != rows[1]
