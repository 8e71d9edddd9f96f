"""The dashboard's URL state: a link reproduces the page, and bad values are named and dropped."""

from pagegen.app.state import NEW_USER, AppState, parse_user_id


def test_state_round_trips_through_the_query():
    state = AppState(
        dataset="ml-100k",
        user=NEW_USER,
        layout="kids",
        optimizer="mmr",
        backend="template",
        settings=(("max_genre_share", 0.3), ("dedup", "soft"), ("min_page_genres", 4)),
        rows=5,
        slots=12,
        liked=(50, 181),
        genres=("Comedy", "Children's"),
    )
    parsed, problems = AppState.from_query(state.to_query())
    assert problems == []
    assert parsed.to_query() == state.to_query()
    assert dict(parsed.settings) == dict(state.settings) and parsed.liked == (50, 181)


def test_defaults_stay_out_of_the_link():
    assert AppState(user="5").to_query() == {"dataset": "ml-100k", "user": "5"}
    assert "liked" not in AppState(user="5", liked=(1,)).to_query()  # picks only describe a new user


def test_bad_values_are_named_and_dropped():
    query = {
        "user": "7",
        "optimizer": "magic",
        "max_genre_share": "1.5",
        "min_page_genres": "many",
        "dedup": "sometimes",
        "rows": "0",
        "liked": "1,x",
        "popularity_beta": "-0.5",
    }
    state, problems = AppState.from_query(query)
    text = " | ".join(problems)
    assert "optimizer 'magic' is not one of ilp, greedy, mmr" in text
    assert "setting max_genre_share must be between 0.1 and 1.0, got 1.5" in text
    assert "setting min_page_genres must be a whole number between 0 and 19, got 'many'" in text
    assert "setting dedup must be one of hard, soft, got 'sometimes'" in text
    assert "setting rows must be a whole number between 1 and 30, got 0" in text and "liked '1,x'" in text
    assert state.optimizer == "ilp" and state.rows is None and state.liked == (1,)
    assert state.settings == (("popularity_beta", -0.5),)


def test_user_ids_are_checked_against_the_dataset():
    assert parse_user_id("5", [4, 5]) == 5
    assert parse_user_id("6", [4, 5]) is None
    assert parse_user_id("'; drop", [4, 5]) is None
    assert parse_user_id(None, [4, 5]) is None
