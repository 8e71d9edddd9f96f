"""Read delimited source files into typed polars frames, or fail naming file, line and column.

The fast path is one typed ``polars.read_csv``. Only when it fails (or leaves a required value
empty) do we scan the text line by line to find the first offending line: that costs seconds on
the largest files, but only on files that are broken anyway.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from pagegen.errors import MalformedDataError

_UNIT_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Column:
    """One column of a source file: its name in our schema, its type, and whether it may be empty."""

    name: str
    dtype: type[pl.DataType] | pl.DataType = pl.String
    required: bool = True
    header: str | None = None  # the name in the file's own header, when it has one


@dataclass(frozen=True)
class TableFormat:
    """How a source file is laid out."""

    columns: tuple[Column, ...]
    separator: str = ","
    has_header: bool = False
    encoding: str = "utf-8"
    quoted: bool = False  # CSV-style double quotes around fields that contain the separator


def read_table(data: bytes, fmt: TableFormat, *, file: str) -> pl.DataFrame:
    """Parse ``data`` (the bytes of ``file``) into a frame with ``fmt``'s columns and types."""
    text = _decode(data, fmt.encoding, file)
    separator = fmt.separator
    if len(separator) > 1:  # polars splits on one byte only; MovieLens 1M uses "::"
        text = text.replace(separator, _UNIT_SEPARATOR)
        separator = _UNIT_SEPARATOR
    if fmt.has_header:
        _check_header(text, fmt, separator, file)
    names = [c.name for c in fmt.columns]
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            separator=separator,
            has_header=fmt.has_header,
            new_columns=names,
            schema_overrides={c.name: c.dtype for c in fmt.columns},
            quote_char='"' if fmt.quoted else None,
            infer_schema=False,
        )
    except (pl.exceptions.PolarsError, ValueError) as error:
        raise _locate_problem(text, fmt, separator, file) or MalformedDataError(file, str(error).splitlines()[0]) from error
    required = [c.name for c in fmt.columns if c.required]
    if frame.select(pl.any_horizontal(pl.col(required).is_null()).any()).item():
        raise _locate_problem(text, fmt, separator, file) or MalformedDataError(file, "a required value is empty")
    return frame


def _decode(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise MalformedDataError(file, f"bytes that are not {encoding}", line=line) from error


def _check_header(text: str, fmt: TableFormat, separator: str, file: str) -> None:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    found = next(csv.reader([first_line], delimiter=separator))
    expected = [c.header or c.name for c in fmt.columns]
    missing = [name for name in expected if name not in found]
    if missing:
        raise MalformedDataError(
            file, f"missing column(s) {', '.join(missing)}; the header has {', '.join(found)}", line=1
        )
    if found != expected:
        raise MalformedDataError(file, f"columns {', '.join(found)}; expected {', '.join(expected)}", line=1)


def _locate_problem(text: str, fmt: TableFormat, separator: str, file: str) -> MalformedDataError | None:
    """Find the first line that breaks ``fmt``; None if every line is fine."""
    lines = io.StringIO(text)
    if fmt.quoted:
        rows: Sequence = csv.reader(lines, delimiter=separator)
    else:
        rows = (line.rstrip("\r\n").split(separator) for line in lines)
    expected = len(fmt.columns)
    for index, fields in enumerate(rows):
        line = index + 1
        if line == 1 and fmt.has_header:
            continue
        if not fields or fields == [""]:
            continue  # blank lines are skipped by the reader too
        if len(fields) < expected:
            missing = fmt.columns[len(fields)].name
            return MalformedDataError(
                file, f"{len(fields)} fields where {expected} are expected", line=line, column=missing
            )
        if len(fields) > expected:
            return MalformedDataError(file, f"{len(fields)} fields where {expected} are expected", line=line)
        for column, value in zip(fmt.columns, fields, strict=True):
            problem = _value_problem(value, column)
            if problem:
                return MalformedDataError(file, problem, line=line, column=column.name)
    return None


def _value_problem(value: str, column: Column) -> str | None:
    if value == "":
        return "empty value" if column.required else None
    dtype = column.dtype
    try:
        if dtype in (pl.Int64, pl.Int32):
            int(value)
        elif dtype in (pl.Float64, pl.Float32):
            float(value)
    except ValueError:
        kind = "an integer" if dtype in (pl.Int64, pl.Int32) else "a number"
        return f"{value!r} is not {kind}"
    return None
