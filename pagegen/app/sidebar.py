"""The sidebar every dashboard page draws: the dataset and user switcher, the layout, optimizer and
backend choices and the setting sliders.

Settings live in each browser session's widget state, seeded from the URL on a session's first run and
written back to it on every run, so a link reproduces the page and two sessions never share settings.
The rows asked for on Home live beside them (``_ASKS_KEY``) and travel in the URL the same way.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from pagegen import data
from pagegen.app.caches import PageRequest, cached_page, service_for
from pagegen.app.state import NEW_USER, SLIDER_SETTINGS, AppState, parse_user_id, with_ask
from pagegen.errors import PagegenError
from pagegen.layout import (
    CONSTRAINT_RANGES,
    SLIDER_LABELS,
    Layout,
    effective_rule,
    inactive_reason,
    parse_constraints,
    parse_layout,
    resize_layout,
    shipped_layouts,
    slider_steps,
    snap,
)
from pagegen.optimizer import Page
from pagegen.serving import AskedPage, PageService
from pagegen.vocabulary import BACKENDS, OPTIMIZERS

_INIT_KEY = "pagegen.initialised"
_URL_PROBLEMS_KEY = "pagegen.url_problems"
_PAGE_KEY = "pagegen.page"
_SAVED_KEY = "pagegen.sidebar"
_ASKS_KEY = "pagegen.asks"  # the session's requests, newest first: not a widget's, so kept across pages
_SIDEBAR_KEYS = {"dataset", "user", "layout", "optimizer", "backend", "genres", "liked"}


@dataclass(frozen=True)
class Context:
    """What a page needs after the sidebar ran: the service, the chosen layout and who the page is for."""

    state: AppState
    service: PageService
    layout: Layout
    request: PageRequest
    held_out: int | None  # the item the user watched next, marked on the page when shown

    def page(self, request: PageRequest | None = None, layout: Layout | None = None) -> Page:
        """The sidebar's page, or another request's (the compare view) or layout's (the designer); without
        the rows asked for on Home (see ``asked_page_or_stop``)."""
        return cached_page(
            self.state.dataset, str(self.service.data_dir), layout or self.layout, request or self.request
        ).page

    def page_or_stop(self, request: PageRequest | None = None, layout: Layout | None = None) -> Page:
        """``page()``, or the reason there is none shown in place of the page (which then stops)."""
        try:
            return self.page(request, layout)
        except PagegenError as error:
            st.error(f"No page for these settings: {error}")
            st.stop()

    def asked_page_or_stop(self) -> AskedPage:
        """The page with the session's asked rows on top (Home), the requests read by the sidebar's backend;
        when they cannot be answered, a warning says why and the page comes without them."""
        if self.state.asks:
            asking = dataclasses.replace(self.request, asks=self.state.asks, reader=self.state.backend)
            try:
                return cached_page(self.state.dataset, str(self.service.data_dir), self.layout, asking)
            except PagegenError as error:
                st.warning(f"Your requests could not be answered ({error}); the page without them.")
        return AskedPage(self.page_or_stop(), ())


def sidebar(page: str) -> Context:
    """The switcher and settings in the sidebar, drawn by every page (``page`` names it); stops the page
    with a message when there is no data."""
    data_dir = data.resolve_data_dir()
    if not st.session_state.get(_INIT_KEY):
        _seed_from_url()
    elif st.session_state.get(_PAGE_KEY) != page:
        _restore_widgets()
    st.session_state[_PAGE_KEY] = page
    prepared = data.prepared_datasets(data_dir)
    if not prepared:
        st.error(
            f"No dataset is prepared in {data_dir}: run `pagegen data fetch --dataset {data.DEFAULT_DATASET}` first."
        )
        st.stop()
    notices = list(st.session_state.pop(_URL_PROBLEMS_KEY, []))
    main_area = st.container()
    with st.sidebar:
        if st.session_state.get("dataset") not in prepared:
            st.session_state["dataset"] = prepared[0]
        dataset = st.selectbox("Dataset", prepared, key="dataset", on_change=_forget_user)
        try:
            service = service_for(dataset, str(data_dir), main_area)
        except PagegenError as error:
            st.error(str(error))
            st.stop()
        users = [int(user) for user in service.user_ids()]
        notices += _user_switcher(service, users)
        base, shown = _layout_and_settings(service)
    state = _state_from_widgets(base, shown, service.genres())
    layout = resize_layout(base, rows=st.session_state["set.rows"], slots=st.session_state.get("set.slots"))
    st.query_params.from_dict(state.to_query())
    user_id = None if state.is_new_user else int(state.user)  # type: ignore[arg-type]
    held_out = service.experiment.held_out_item(user_id) if user_id is not None else None
    request = PageRequest(user_id, state.settings, state.optimizer, state.liked, state.genres)
    _remember_widgets()
    for notice in notices:  # at the top of whichever page is shown
        st.warning(notice)
    return Context(state, service, layout, request, held_out)


def ask_for_a_row(widget: str) -> None:
    """The chat input's callback: its request first in the session's requests (before the run, so the
    sidebar writes it to the URL and the page answers it)."""
    st.session_state[_ASKS_KEY] = list(with_ask(st.session_state.get(_ASKS_KEY, ()), st.session_state[widget]))


def clear_asks() -> None:
    st.session_state[_ASKS_KEY] = []


def _remember_widgets() -> None:
    st.session_state[_SAVED_KEY] = {
        key: value for key, value in st.session_state.items() if key in _SIDEBAR_KEYS or key.startswith("set.")
    }


def _restore_widgets() -> None:
    """Another page's widgets are new widgets to Streamlit, which would start them from their defaults:
    give them the values the visitor set on the page before."""
    for key, value in st.session_state.get(_SAVED_KEY, {}).items():
        st.session_state[key] = value


def _seed_from_url() -> None:
    """A session's first run: widget values from the URL, and messages for what could not be used."""
    state, problems = AppState.from_query({**st.query_params.to_dict(), "ask": st.query_params.get_all("ask")})
    st.session_state.update(
        {
            "dataset": state.dataset,
            "url_user": state.user,
            "layout": state.layout,
            "optimizer": state.optimizer,
            "backend": state.backend,
            "url_settings": dict(state.settings),
            "url_size": {"rows": state.rows, "slots": state.slots},
            "liked": list(state.liked),
            "genres": list(state.genres),
            _ASKS_KEY: list(state.asks),
            _INIT_KEY: True,
            _URL_PROBLEMS_KEY: [f"Ignored from the link: {problem}" for problem in problems],
        }
    )


def _forget_user() -> None:
    st.session_state.pop("user", None)


def _pick_random_user(users: Sequence[int]) -> None:
    st.session_state["user"] = random.choice(users)


def _pick_new_user() -> None:
    st.session_state["user"] = NEW_USER


def _user_switcher(service: PageService, users: list[int]) -> list[str]:
    notices = []
    if "user" not in st.session_state or st.session_state["user"] not in [NEW_USER, *users]:
        wanted = st.session_state.pop("url_user", None)
        chosen = NEW_USER if wanted == NEW_USER else parse_user_id(wanted, users)
        if wanted is not None and chosen is None:
            notices.append(
                f"Unknown user {wanted!r} in dataset {service.name!r}: showing user {users[0]}; pick another."
            )
        st.session_state["user"] = chosen if chosen is not None else users[0]
    st.selectbox(
        "User", [NEW_USER, *users], key="user", format_func=lambda u: "New user" if u == NEW_USER else f"User {u}"
    )
    left, right = st.columns(2)
    left.button("Random", icon=":material/casino:", on_click=_pick_random_user, args=(users,), width="stretch")
    right.button("New user", icon=":material/person_add:", on_click=_pick_new_user, width="stretch")
    if st.session_state["user"] == NEW_USER:
        st.multiselect("Genres you like", service.genres(), key="genres")
        popular = service.popular_items()
        known = set(popular)
        st.session_state["liked"] = [item for item in st.session_state.get("liked", []) if item in known]
        st.multiselect("Films you liked", list(popular), key="liked", format_func=popular.get, max_selections=10)
    return notices


def _reset_settings() -> None:
    for key in [key for key in st.session_state if key.startswith("set.")]:
        del st.session_state[key]
    st.session_state.pop("url_settings", None)
    st.session_state.pop("url_size", None)


def _layout_and_settings(service: PageService) -> tuple[Layout, Layout]:
    """The layout picker, optimizer and backend choices and the sliders; returns the chosen layout as
    its file has it (the sliders then override its settings and size) and as the sliders set it."""
    layouts = shipped_layouts()
    if st.session_state.get("layout") not in layouts:
        if st.session_state.get("layout") is not None:
            st.warning(f"No layout called {st.session_state['layout']!r}; showing the default.")
        st.session_state["layout"] = "default" if "default" in layouts else next(iter(layouts))
    name = st.selectbox("Layout", list(layouts), key="layout", on_change=_reset_settings)
    try:
        base = parse_layout(layouts[name].read_text(encoding="utf-8"), source=str(layouts[name]))
    except (PagegenError, OSError) as error:
        st.error(str(error))
        st.stop()
    st.radio("Optimizer", OPTIMIZERS, key="optimizer", horizontal=True, format_func=str.upper)
    st.selectbox(
        "Title backend", BACKENDS, key="backend", help="auto: Ollama if a server answers, else the embedded model"
    )
    with st.expander("Page settings", expanded=True):
        shown = _snapped_settings(base, service.genres())
        for key in SLIDER_SETTINGS:
            if key == "dedup":
                st.toggle("Soft de-duplication (allow repeats, with a penalty)", key="set.dedup")
            else:
                _slider(key, shown, service.genres())
        _slider("rows", shown, service.genres())
        if _carousel_slots(base) is not None:
            _slider("slots", shown, service.genres())
        st.button("Reset to the layout's settings", on_click=_reset_settings)
    return base, shown


def _snapped_settings(base: Layout, genres: Sequence[str]) -> Layout:
    """Every slider's value in the session (from the link, else the layout file) snapped to its step on the
    layout the sliders act on, which it returns: ``base`` resized and holding the sliders' settings. Each
    slider's steps depend on settings before it here (the rows on the rows per type, the genre share on
    the carousels' cards), so they are snapped in that order."""
    session, from_url = st.session_state, st.session_state.get("url_settings", {})
    size = session.get("url_size", {})
    session.setdefault("set.dedup", from_url.get("dedup", base.constraints.dedup) == "soft")
    for key in CONSTRAINT_RANGES:
        session.setdefault(f"set.{key}", from_url.get(key, getattr(base.constraints, key)))
    session.setdefault("set.rows", size.get("rows") or len(base.tiles))
    carousel = _carousel_slots(base)
    if carousel is not None:
        session.setdefault("set.slots", size.get("slots") or carousel)
    values = {key: session[f"set.{key}"] for key in CONSTRAINT_RANGES}
    layout = dataclasses.replace(
        base,
        constraints=parse_constraints(
            {**values, "dedup": "soft" if session["set.dedup"] else "hard"}, base=base.constraints
        ),
    )
    for key in _SNAP_ORDER:
        if f"set.{key}" not in session:
            continue
        session[f"set.{key}"] = snap(key, layout, session[f"set.{key}"], catalogue_genres=genres)
        if key in CONSTRAINT_RANGES:
            layout = dataclasses.replace(
                layout, constraints=dataclasses.replace(layout.constraints, **{key: session[f"set.{key}"]})
            )
        else:
            layout = resize_layout(layout, **{key: session[f"set.{key}"]})
    return layout


# Sliders whose steps others depend on come first: the rows on the rows per type, the genre share on the
# carousels' cards.
_SNAP_ORDER = ("max_rows_per_type", "rows", "slots", *(k for k in CONSTRAINT_RANGES if k != "max_rows_per_type"))


def _slider(key: str, layout: Layout, genres: Sequence[str]) -> None:
    """A slider over the setting's steps on ``layout`` (each a different rule), the rule it sets below it;
    disabled, with the reason, where the setting does nothing on the layout."""
    steps = slider_steps(key, layout, catalogue_genres=genres)
    inactive = inactive_reason(key, layout)
    if len(steps) > 1:
        st.select_slider(
            SLIDER_LABELS[key], steps, key=f"set.{key}", format_func=_SLIDER_FORMATS[key], disabled=bool(inactive)
        )
    rule = effective_rule(key, layout, st.session_state[f"set.{key}"], catalogue_genres=genres)
    st.caption(
        inactive
        or (rule.describe() if len(steps) > 1 else f"{SLIDER_LABELS[key]}: {rule.describe()} (the only choice here)")
    )


_SLIDER_FORMATS = {  # how a step reads on its slider; the caption under it says what it holds the page to
    "max_genre_share": "{:.0%}".format,
    "popularity_beta": "{:+.1f}".format,
    "min_relevance_quantile": "{:.0%}".format,
    "dedup_penalty": "{:.2f}".format,
    **{key: str for key in ("min_page_genres", "min_new_items", "max_rows_per_type", "rows", "slots")},
}


def _state_from_widgets(base: Layout, shown: Layout, genres: Sequence[str]) -> AppState:
    """The AppState the widgets now show; settings at the step the layout's own value acts as are not
    overrides."""
    session = st.session_state
    settings = []
    for key in SLIDER_SETTINGS:
        if key == "dedup":
            value: Any = "soft" if session["set.dedup"] else "hard"
        elif f"set.{key}" in session and (key != "dedup_penalty" or session["set.dedup"]):
            value = session[f"set.{key}"]
        else:
            continue
        default = getattr(base.constraints, key)
        if value != (default if key == "dedup" else snap(key, shown, default, catalogue_genres=genres)):
            settings.append((key, value))
    carousel = _carousel_slots(base)
    new_user = session["user"] == NEW_USER
    return AppState(
        dataset=session["dataset"],
        user=str(session["user"]),
        layout=session["layout"],
        optimizer=session["optimizer"],
        backend=session["backend"],
        settings=tuple(settings),
        rows=session["set.rows"] if session["set.rows"] != len(base.tiles) else None,
        slots=session.get("set.slots") if session.get("set.slots") != carousel else None,
        liked=tuple(session.get("liked", [])) if new_user else (),
        genres=tuple(session.get("genres", [])) if new_user else (),
        asks=tuple(session.get(_ASKS_KEY, [])),
    )


def _carousel_slots(layout: Layout) -> int | None:
    """The cards of the layout's first carousel: where the cards-per-carousel slider starts."""
    return next((tile.slots for tile in layout.tiles if tile.kind == "carousel"), None)
