"""The dashboard's state as URL query parameters, so a link reproduces the page: dataset, user, layout,
optimizer, title backend, slider overrides, page size, a new user's onboarding picks and the rows asked
for on Home (``ask``, repeated, newest first).

Parsing never raises: a bad value is dropped with a message naming it, and the page goes on with the
default (an instructor's mistyped link still opens a page). A request is only ever text to read: it is
trimmed and shortened here, and never used as a path or run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pagegen.data.sources import DEFAULT_DATASET
from pagegen.errors import SettingsError
from pagegen.layout import CONSTRAINT_RANGES, PAGE_SIZE_RANGES, parse_constraints
from pagegen.vocabulary import BACKENDS, DEFAULT_BACKEND, DEFAULT_OPTIMIZER, MAX_ASKED, MAX_REQUEST_CHARS, OPTIMIZERS

NEW_USER = "new"  # the ``user`` value of a new user, whose page comes from onboarding picks
# The constraint settings the sidebar overrides, in its order (the penalty follows the soft/hard toggle).
SLIDER_SETTINGS = (*(key for key in CONSTRAINT_RANGES if key != "dedup_penalty"), "dedup", "dedup_penalty")


@dataclass(frozen=True)
class AppState:
    dataset: str = DEFAULT_DATASET
    user: str | None = None  # kept as text: validating it against the dataset is the page's job
    layout: str = "default"
    optimizer: str = DEFAULT_OPTIMIZER
    backend: str = DEFAULT_BACKEND
    settings: tuple[tuple[str, Any], ...] = ()  # slider overrides of the layout's constraints, by name
    rows: int | None = None  # page size overrides of the layout
    slots: int | None = None
    liked: tuple[int, ...] = ()  # a new user's onboarding picks
    genres: tuple[str, ...] = ()
    asks: tuple[str, ...] = ()  # the rows asked for on Home, newest first (see ``with_ask``)

    @property
    def is_new_user(self) -> bool:
        return self.user == NEW_USER

    @classmethod
    def from_query(cls, query: Mapping[str, str | list[str]]) -> tuple[AppState, list[str]]:
        """The state a URL asks for, and a message for every value that was dropped. Only ``ask`` may be
        repeated (a list: ``st.query_params.get_all``); any other key is one text."""
        problems: list[str] = []
        values: dict[str, Any] = {
            "dataset": query.get("dataset") or DEFAULT_DATASET,
            "user": query.get("user") or None,
            "layout": query.get("layout") or "default",
        }
        for key, choices in (("optimizer", OPTIMIZERS), ("backend", BACKENDS)):
            if key in query:
                if query[key] in choices:
                    values[key] = query[key]
                else:
                    problems.append(f"{key} {query[key]!r} is not one of {', '.join(choices)}")
        settings = []
        for key in SLIDER_SETTINGS:
            if key in query:
                try:
                    settings.append((key, _setting(key, query[key])))
                except SettingsError as error:
                    problems.append(str(error))
        values["settings"] = tuple(settings)
        for key, bounds in PAGE_SIZE_RANGES.items():
            if key in query:
                number = _integer(query[key])
                try:
                    values[key] = bounds.check(key, query[key] if number is None else number, source="link")
                except SettingsError as error:
                    problems.append(str(error))
        liked = [_integer(part) for part in query.get("liked", "").split(",") if part]
        if None in liked:
            problems.append(f"liked {query['liked']!r} is not a comma-separated list of item ids")
        values["liked"] = tuple(item for item in liked if item is not None)
        values["genres"] = tuple(part for part in query.get("genres", "").split(",") if part)
        asks = query.get("ask", [])
        values["asks"] = _asks([asks] if isinstance(asks, str) else asks, problems)
        return cls(**values), problems

    def to_query(self) -> dict[str, str | list[str]]:
        """Query parameters for this state; defaults are left out so links stay short."""
        query: dict[str, str | list[str]] = {"dataset": self.dataset}
        if self.user is not None:
            query["user"] = self.user
        defaults = AppState()
        for key in ("layout", "optimizer", "backend", "rows", "slots"):
            value = getattr(self, key)
            if value != getattr(defaults, key):
                query[key] = str(value)
        query.update({key: str(value) for key, value in self.settings})
        if self.is_new_user:
            if self.liked:
                query["liked"] = ",".join(str(item) for item in self.liked)
            if self.genres:
                query["genres"] = ",".join(self.genres)
        if self.asks:
            query["ask"] = list(self.asks)
        return query


def with_ask(asks: Iterable[str], text: str) -> tuple[str, ...]:
    """The session's requests with ``text`` first (trimmed, shortened; once: asked again, it moves to the
    top), the oldest beyond ``MAX_ASKED`` dropped; ``asks`` unchanged for a blank request."""
    return _asks([text, *asks], [])


def _asks(texts: Iterable[str], problems: list[str]) -> tuple[str, ...]:
    """Requests as the page reads them, newest first: spaces collapsed, blank ones and repeats dropped, each
    at most ``MAX_REQUEST_CHARS`` and at most ``MAX_ASKED`` of them (a message in ``problems`` for each cut)."""
    asks: list[str] = []
    for text in texts:
        request = " ".join(text.split())
        if len(request) > MAX_REQUEST_CHARS:
            problems.append(f"ask of {len(request):,} characters shortened to {MAX_REQUEST_CHARS}")
            request = request[:MAX_REQUEST_CHARS].rstrip()
        if request and request not in asks:
            asks.append(request)
    if len(asks) > MAX_ASKED:
        problems.append(f"{len(asks)} asks: a page answers the newest {MAX_ASKED}")
    return tuple(asks[:MAX_ASKED])


def parse_user_id(text: str | None, known: list[int]) -> int | None:
    """The user id in ``text`` if it is one of ``known``; None otherwise."""
    if text is None:
        return None
    user_id = _integer(text)
    return user_id if user_id in set(known) else None


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _setting(key: str, text: str) -> Any:
    """One slider setting from its query text, range-checked the way a layout file's value is."""
    if key == "dedup":
        value: Any = text
    else:
        try:
            value = int(text) if CONSTRAINT_RANGES[key].integer else float(text)
        except ValueError:
            value = text  # parse_constraints names the key and its range
    parse_constraints({key: value}, source="link")
    return value
