"""The normalized tables every dataset is stored as, named in one place.

Every parser and generator produces frames with exactly these columns and types, checked by
:func:`conform` before anything is written.
"""

from __future__ import annotations

import polars as pl

from pagegen.errors import MalformedDataError

USER_ID = "user_id"
ITEM_ID = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"  # seconds since the Unix epoch, UTC
TITLE = "title"
YEAR = "year"
GENRES = "genres"

INTERACTIONS: dict[str, pl.DataType] = {
    USER_ID: pl.Int32(),
    ITEM_ID: pl.Int32(),
    RATING: pl.Float32(),
    TIMESTAMP: pl.Int64(),
}
ITEMS: dict[str, pl.DataType] = {
    ITEM_ID: pl.Int32(),
    TITLE: pl.String(),
    YEAR: pl.Int32(),
    GENRES: pl.List(pl.String()),
}
# Links to outside catalogues, present where the source has them (MovieLens "latest" sets).
ITEM_LINKS: dict[str, pl.DataType] = {"imdb_id": pl.Int64(), "tmdb_id": pl.Int64()}
USERS: dict[str, pl.DataType] = {
    USER_ID: pl.Int32(),
    "age": pl.Int32(),
    "gender": pl.String(),
    "occupation": pl.String(),
    "zip_code": pl.String(),
}
TAGS: dict[str, pl.DataType] = {
    USER_ID: pl.Int32(),
    ITEM_ID: pl.Int32(),
    "tag": pl.String(),
    TIMESTAMP: pl.Int64(),
}

UNKNOWN_GENRE = "unknown"


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType], *, table: str, optional: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema`` (plus any ``optional`` columns it has); name what is missing."""
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise MalformedDataError(table, f"missing column(s) {', '.join(missing)}")
    wanted = dict(schema)
    wanted.update({name: dtype for name, dtype in (optional or {}).items() if name in frame.columns})
    return frame.select(pl.col(name).cast(dtype) for name, dtype in wanted.items())
