"""The issue's walk: every slider's steps on every shipped layout, for a few users of the small synthetic
service. Adjacent steps differ in effective rule; where the rule binds (the page at the looser step breaks
the tighter step's rule, and the tighter step's page keeps it) the pages differ. An objective weight (β,
the soft penalty) binds wherever the page it weighs has something to weigh (an item with popularity, a
repeat); its page then differs in score."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections import Counter

import pytest

from pagegen.layout import (
    SLIDER_RANGES,
    Layout,
    effective_rule,
    load_layout,
    resize_layout,
    shipped_layouts,
    slider_steps,
    tile_genre_cap,
)
from pagegen.optimizer import Page

USERS = 2  # users walked per slider and layout (the first ones of the small service)
# Sliders of many steps that weigh or size every page (each step binds any page): one user keeps the walk
# quick; every step is still walked.
ONE_USER = {"popularity_beta", "dedup_penalty", "slots", "min_relevance_quantile"}
# The greedy builder keeps the same rules (or reports each it misses) in milliseconds a page; the ILP takes
# up to seconds, and the walk builds about a thousand pages.
OPTIMIZER = "greedy"
# Which way a slider tightens its rule: +1 a higher value asks more of the page, -1 a lower one.
TIGHTER = {"max_genre_share": -1, "min_page_genres": 1, "min_new_items": 1, "min_relevance_quantile": 1}
# On the small catalogue every page already shows all the genres and new titles it can reach (its "new for
# you" row alone brings them): a step above that is relaxed, one below it met, so none binds here.
NEVER_BINDS_HERE = {"min_page_genres", "min_new_items"}
TIGHTER |= {"max_rows_per_type": -1, "rows": -1, "slots": -1, "popularity_beta": 1, "dedup_penalty": 1}


@pytest.fixture(scope="module")
def service(small_service):
    return small_service


def _walked(layout: Layout, setting: str) -> Layout:
    """The layout a slider is walked on: the penalty acts only with soft de-duplication."""
    if setting != "dedup_penalty":
        return layout
    return dataclasses.replace(layout, constraints=dataclasses.replace(layout.constraints, dedup="soft"))


@functools.cache
def _page(service, layout: Layout, user: int, setting: str, step: float) -> Page:
    if setting in ("rows", "slots"):
        return service.page(user, resize_layout(layout, **{setting: step}), optimizer=OPTIMIZER, compare=False)
    return service.page(
        user, layout, {setting: step, "dedup": layout.constraints.dedup}, optimizer=OPTIMIZER, compare=False
    )


def _breaks(setting: str, page: Page, step: float) -> bool:
    """Whether ``page`` breaks ``setting``'s rule at ``step`` (its layout's tile sizes from the page)."""
    if setting == "max_genre_share":
        return any(
            count > tile_genre_cap(step, row.slots)
            for row in page.rows
            for genre, count in Counter(g for item in row.items for g in item.genres).items()
            if genre not in row.reason.genres
        )
    if setting == "min_page_genres":
        return len({g for row in page.rows for item in row.items for g in item.genres}) < step
    if setting == "min_new_items":
        return len({item.item_id for row in page.rows for item in row.items if item.is_new}) < step
    if setting == "min_relevance_quantile":
        return any(item.relevance < step for row in page.rows for item in row.items)
    if setting == "max_rows_per_type":
        return max(Counter(row.reason.row_type for row in page.rows).values(), default=0) > step
    if setting == "rows":
        return len(page.rows) > step
    if setting == "slots":
        return any(row.kind == "carousel" and row.slots > step for row in page.rows)
    if setting == "popularity_beta":
        return any(item.popularity > 0 for row in page.rows for item in row.items)
    return len(page.item_ids) > len(set(page.item_ids))  # dedup_penalty: a repeat is charged


def _relaxed(setting: str, page: Page) -> bool:
    return any(r.constraint.split(".")[0] == setting for r in page.report.relaxations)


def _shown(setting: str, page: Page) -> tuple:
    """What the two pages are compared on: the cards, and for an objective weight their scores too."""
    cards = tuple((row.row_id, row.slots, tuple(item.item_id for item in row.items)) for row in page.rows)
    if setting in ("popularity_beta", "dedup_penalty"):
        return cards, page.report.objective, tuple(item.score for row in page.rows for item in row.items)
    return cards


@pytest.mark.parametrize("setting", sorted(SLIDER_RANGES))
def test_every_slider_step_acts_on_every_shipped_layout(service, setting):
    users = [int(user) for user in service.user_ids()[: 1 if setting in ONE_USER else USERS]]
    bound = 0
    for name, path in shipped_layouts().items():
        layout = _walked(load_layout(path), setting)
        steps = slider_steps(setting, layout, catalogue_genres=service.genres())
        rules = [effective_rule(setting, layout, step, catalogue_genres=service.genres()) for step in steps]
        assert all(a != b for a, b in itertools.pairwise(rules)), (name, setting)
        for low, high in itertools.pairwise(steps):
            looser, tighter = (low, high) if TIGHTER[setting] > 0 else (high, low)
            for user in users:
                loose_page = _page(service, layout, user, setting, looser)
                if not _breaks(setting, loose_page, tighter):
                    continue  # the tighter rule does not bind this user's page
                tight_page = _page(service, layout, user, setting, tighter)
                if setting in TIGHTER and _relaxed(setting, tight_page):
                    continue  # the catalogue cannot meet the tighter rule for this user: the page says so
                bound += 1
                assert _shown(setting, tight_page) != _shown(setting, loose_page), (name, user, looser, tighter)
    if setting not in NEVER_BINDS_HERE:
        assert bound, f"no step of {setting} bound any page: the walk checked nothing"
