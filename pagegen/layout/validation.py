"""Layout validation: plain data (a parsed TOML document, a form's values, slider settings) into the
model, field by field; every error names the source, the field and the reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pagegen.errors import LayoutError, SettingsError
from pagegen.layout.model import (
    CONSTRAINT_RANGES,
    DEDUP_MODES,
    GRID_RANGES,
    LAYOUT_RANGES,
    MAX_TILES,
    TILE_REPEAT,
    TILE_SLOTS,
    Constraints,
    Layout,
    Range,
    Tile,
)
from pagegen.vocabulary import ROW_TYPES

_TOP_KEYS = {
    "name",
    "description",
    "row_decay",
    "slot_decay",
    "allowed_row_types",
    "min_tile_kinds",
    "min_items",
    "constraints",
    "tiles",
}
_TILE_KEYS = {"kind", "slots", "pinned", "columns", "rows", "repeat"}


def layout_from_data(data: Any, *, source: str = "<layout>") -> Layout:
    """A validated Layout from plain data (a parsed TOML document, or a form's values)."""
    if not isinstance(data, dict):
        raise LayoutError(source, "", "must be a table of layout fields")
    _no_unknown(data, _TOP_KEYS, source, "")
    name = _typed(data, "name", str, source)
    if not name.strip():
        raise LayoutError(source, "name", "must not be empty")
    tiles_data = data.get("tiles")
    if not isinstance(tiles_data, list) or not tiles_data:
        raise LayoutError(source, "tiles", "needs at least one [[tiles]] entry")
    tiles: list[Tile] = []
    for index, tile_data in enumerate(tiles_data):
        tiles.extend(_tiles(tile_data, source, f"tiles[{index}]"))
    if len(tiles) > MAX_TILES:
        raise LayoutError(source, "tiles", f"{len(tiles)} tiles; at most {MAX_TILES}")
    defaults = Layout(name="", tiles=())
    table = data.get("constraints", {})
    if not isinstance(table, dict):
        raise LayoutError(source, "constraints", "must be a table of settings")
    with _in_file(source, "constraints."):
        constraints = parse_constraints(table, source=source)
    allowed = tuple(_typed(data, "allowed_row_types", list, source, default=list(ROW_TYPES)))
    for row_type in allowed:
        _row_type(row_type, source, "allowed_row_types")
    layout = Layout(
        name=name,
        tiles=tuple(tiles),
        description=_typed(data, "description", str, source, default=""),
        row_decay=_number(data, "row_decay", source, LAYOUT_RANGES["row_decay"], defaults.row_decay),
        slot_decay=_number(data, "slot_decay", source, LAYOUT_RANGES["slot_decay"], defaults.slot_decay),
        allowed_row_types=allowed,
        min_tile_kinds=_number(
            data, "min_tile_kinds", source, LAYOUT_RANGES["min_tile_kinds"], defaults.min_tile_kinds
        ),
        min_items=_number(data, "min_items", source, LAYOUT_RANGES["min_items"], defaults.min_items),
        constraints=constraints,
    )
    for index, tile in enumerate(layout.tiles):
        if tile.pinned is not None and tile.pinned not in layout.allowed_row_types:
            raise LayoutError(source, f"tiles[{index}].pinned", f"{tile.pinned!r} is not among allowed_row_types")
    kinds = {tile.kind for tile in layout.tiles}
    if len(kinds) < layout.min_tile_kinds:
        raise LayoutError(
            source,
            "min_tile_kinds",
            f"the page has {len(kinds)} tile kind(s) ({', '.join(sorted(kinds))}), the rule asks for {layout.min_tile_kinds}",
        )
    if layout.total_slots < layout.min_items:
        raise LayoutError(
            source, "min_items", f"the tiles hold {layout.total_slots} items, the rule asks for {layout.min_items}"
        )
    return layout


def parse_constraints(
    settings: Mapping[str, Any], *, source: str = "settings", base: Constraints | None = None
) -> Constraints:
    """``base`` with some settings overridden: a layout's [constraints] table, sliders, a link or
    ``--set``. A value its setting does not take raises a SettingsError naming the setting, the value
    and the allowed range or choices."""
    values = {key: _setting(key, value, source) for key, value in settings.items()}
    return dataclasses.replace(base or Constraints(), **values)


def _setting(key: str, value: Any, source: str) -> Any:
    if key in CONSTRAINT_RANGES:
        return CONSTRAINT_RANGES[key].check(key, value, source=source)
    if key == "dedup":
        if value in DEDUP_MODES:
            return value
        allowed = f"one of {', '.join(DEDUP_MODES)}"
    elif key == "allowed_genres":
        if isinstance(value, list) and all(isinstance(genre, str) and genre for genre in value):
            return tuple(value)
        allowed = "a list of genre names"
    elif key == "required_row_types":
        if isinstance(value, list) and all(row_type in ROW_TYPES for row_type in value):
            return tuple(value)
        allowed = f"a list of row types ({', '.join(ROW_TYPES)})"
    else:
        known = ", ".join(f.name for f in dataclasses.fields(Constraints))
        raise SettingsError(key, f"is unknown; settings: {known}", source=source)
    raise SettingsError(key, f"must be {allowed}, got {value!r}", source=source)


@contextmanager
def _in_file(source: str, prefix: str) -> Iterator[None]:
    """A setting's check inside a layout file: its error names the file and the field's place there."""
    try:
        yield
    except SettingsError as error:
        raise LayoutError(source, f"{prefix}{error.field}", error.reason) from error


def _tiles(data: Any, source: str, where: str) -> list[Tile]:
    if not isinstance(data, dict):
        raise LayoutError(source, where, "must be a table")
    _no_unknown(data, _TILE_KEYS, source, f"{where}.")
    kind = _typed(data, "kind", str, source, prefix=f"{where}.")
    if kind not in TILE_SLOTS:
        raise LayoutError(source, f"{where}.kind", f"{kind!r} is not one of {', '.join(TILE_SLOTS)}")
    columns = None
    if kind == "grid":
        rows = _number(data, "rows", source, GRID_RANGES["rows"], None, prefix=f"{where}.")
        columns = _number(data, "columns", source, GRID_RANGES["columns"], None, prefix=f"{where}.")
        slots = rows * columns
    else:  # a hero has one slot, so it may leave it out
        slots = _number(data, "slots", source, TILE_SLOTS[kind], 1 if kind == "hero" else None, prefix=f"{where}.")
    pinned = data.get("pinned")
    if pinned is not None:
        _row_type(pinned, source, f"{where}.pinned")
    repeat = _number(data, "repeat", source, TILE_REPEAT, 1, prefix=f"{where}.")
    if pinned is not None and repeat > 1:
        raise LayoutError(source, f"{where}.pinned", "a pinned row type cannot be repeated; give it its own [[tiles]]")
    return [Tile(kind=kind, slots=slots, pinned=pinned, columns=columns) for _ in range(repeat)]


def _no_unknown(data: dict[str, Any], known: set[str], source: str, prefix: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise LayoutError(source, f"{prefix}{unknown[0]}", f"unknown field; expected one of {', '.join(sorted(known))}")


def _typed(data: dict[str, Any], key: str, kind: type, source: str, *, default: Any = ..., prefix: str = "") -> Any:
    if key not in data:
        if default is ...:
            raise LayoutError(source, f"{prefix}{key}", "is required")
        return default
    value = data[key]
    if not isinstance(value, kind):
        raise LayoutError(source, f"{prefix}{key}", f"must be a {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def _number(data: dict[str, Any], key: str, source: str, bounds: Range, default: Any, *, prefix: str = "") -> Any:
    """``data[key]`` checked against its range, or ``default`` when it is left out (None: it is required)."""
    if key not in data:
        if default is None:
            raise LayoutError(source, f"{prefix}{key}", f"is required ({bounds})")
        return default
    with _in_file(source, prefix):
        return bounds.check(key, data[key], source=source)


def _row_type(value: Any, source: str, where: str) -> str:
    if value not in ROW_TYPES:
        raise LayoutError(source, where, f"{value!r} is not a row type; row types: {', '.join(ROW_TYPES)}")
    return value
