"""Query-parameter state: the URL carries the dataset and user so a link reproduces the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pagegen.data.sources import DEFAULT_DATASET


@dataclass(frozen=True)
class PageState:
    dataset: str = DEFAULT_DATASET
    user: str | None = None  # kept as text: validating it against the dataset is the page's job

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> PageState:
        return cls(dataset=query.get("dataset") or DEFAULT_DATASET, user=query.get("user") or None)

    def to_query(self) -> dict[str, str]:
        query = {"dataset": self.dataset}
        if self.user is not None:
            query["user"] = self.user
        return query


def parse_user_id(text: str | None, known: list[int]) -> int | None:
    """The user id in ``text`` if it is one of ``known``; None otherwise."""
    if text is None:
        return None
    try:
        user_id = int(text)
    except ValueError:
        return None
    return user_id if user_id in set(known) else None
