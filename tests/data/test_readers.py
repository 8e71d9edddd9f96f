"""Malformed source files fail with the file, line and column named."""

import polars as pl
import pytest

from pagegen.data.readers import Column, TableFormat, read_table
from pagegen.errors import MalformedDataError

RATINGS = TableFormat(
    (Column("user_id", pl.Int64), Column("item_id", pl.Int64), Column("rating", pl.Float64), Column("timestamp", pl.Int64)),
    separator="\t",
)
CSV_RATINGS = TableFormat(
    (
        Column("user_id", pl.Int64, header="userId"),
        Column("item_id", pl.Int64, header="movieId"),
        Column("rating", pl.Float64, header="rating"),
        Column("timestamp", pl.Int64, header="timestamp"),
    ),
    has_header=True,
)


def test_reads_typed_columns():
    frame = read_table(b"1\t2\t3.5\t100\n4\t5\t1\t200\n", RATINGS, file="u.data")
    assert frame.columns == ["user_id", "item_id", "rating", "timestamp"]
    assert frame.dtypes == [pl.Int64, pl.Int64, pl.Float64, pl.Int64]
    assert frame.row(0) == (1, 2, 3.5, 100)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"1\t2\t3\t100\n1\t3\t4\t101\n2\tabc\t5\t102\n", r"u\.data, line 3, column 'item_id': 'abc' is not an integer"),
        (b"1\t2\t3\t100\n1\t3\tfive\t101\n", r"u\.data, line 2, column 'rating': 'five' is not a number"),
        (b"1\t2\t3\t100\n1\t3\t4\n", r"u\.data, line 2, column 'timestamp': 3 fields where 4 are expected"),
        (b"1\t2\t3\t100\t9\n", r"u\.data, line 1: 5 fields where 4 are expected"),
    ],
    ids=["non-numeric id", "non-numeric rating", "short line", "long line"],
)
def test_bad_rows_name_file_line_and_column(content, message):
    with pytest.raises(MalformedDataError, match=message):
        read_table(content, RATINGS, file="u.data")


def test_header_missing_a_column_lists_what_it_has():
    with pytest.raises(
        MalformedDataError,
        match=r"ratings\.csv, line 1: missing column\(s\) timestamp; the header has userId, movieId, rating",
    ):
        read_table(b"userId,movieId,rating\n1,2,3\n", CSV_RATINGS, file="ratings.csv")


def test_header_lines_count_in_line_numbers():
    with pytest.raises(MalformedDataError, match=r"line 3, column 'user_id': 'x7' is not an integer"):
        read_table(b"userId,movieId,rating,timestamp\n1,2,3,4\nx7,2,3,4\n", CSV_RATINGS, file="ratings.csv")


def test_quoted_fields_keep_their_separators():
    fmt = TableFormat((Column("item_id", pl.Int64, header="movieId"), Column("title", header="title")), has_header=True, quoted=True)
    frame = read_table(b'movieId,title\n2,"American President, The (1995)"\n', fmt, file="movies.csv")
    assert frame["title"].to_list() == ["American President, The (1995)"]


def test_multi_character_separator():
    fmt = TableFormat((Column("item_id", pl.Int64), Column("title"), Column("genres")), separator="::")
    frame = read_table(b"1::Toy Story: Redux (1995)::Animation|Comedy\n", fmt, file="movies.dat")
    assert frame.row(0) == (1, "Toy Story: Redux (1995)", "Animation|Comedy")


def test_bytes_outside_the_encoding_name_the_line():
    with pytest.raises(MalformedDataError, match=r"movies\.csv, line 2: bytes that are not utf-8"):
        read_table(b"1\t2\t3\t4\n1\t\xff\t3\t4\n", RATINGS, file="movies.csv")
