"""The dashboard's URL state: a link reproduces the page, and bad values are named and dropped."""

from pagegen.app.state import NEW_USER, AppState, parse_user_id, with_ask
from pagegen.vocabulary import MAX_ASKED, MAX_REQUEST_CHARS


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


def test_asks_round_trip_through_the_link_newest_first():
    state = AppState(user="5", asks=("80s horror", "something like Alien but funny"))
    query = state.to_query()
    assert query["ask"] == ["80s horror", "something like Alien but funny"]  # one ``ask`` per request
    parsed, problems = AppState.from_query(query)
    assert problems == [] and parsed == state
    assert AppState.from_query({"ask": "  80s   horror "})[0].asks == ("80s horror",)  # one, as a single value


def test_asks_from_the_link_are_trimmed_capped_and_kept_as_text():
    hostile = '<script>alert("x")</script>'
    texts = ["", "   ", hostile, "x" * 10_000, hostile, "../../etc/passwd", "one too many"]
    state, problems = AppState.from_query({"ask": texts})
    assert state.asks == (hostile, "x" * MAX_REQUEST_CHARS, "../../etc/passwd")  # blanks and the repeat dropped
    assert problems == [
        f"ask of 10,000 characters shortened to {MAX_REQUEST_CHARS}",
        f"4 asks: a page answers the newest {MAX_ASKED}",
    ]
    assert state.to_query()["ask"] == list(state.asks)


def test_a_new_request_goes_first_once():
    asks = ("a", "b", "c")
    assert with_ask(asks, " d ") == ("d", "a", "b")  # the oldest gives way
    assert with_ask(asks, "c") == ("c", "a", "b")  # asked again: back on top, not twice
    assert with_ask(asks, "  ") == asks
    assert with_ask((), "y" * 500) == ("y" * MAX_REQUEST_CHARS,)
