"""Layout validation: plain data (a parsed TOML document, a form's values, slider settings) into the
model, field by field; every error names the source, the field and the reason."""

from __future__ import annotations

import dataclasses
from typing import Any

from pagegen.errors import LayoutError
from pagegen.layout.model import CONSTRAINT_RANGES, DEDUP_MODES, MAX_TILES, TILE_SLOTS, Constraints, Layout, Tile
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
    allowed = tuple(_typed(data, "allowed_row_types", list, source, default=list(ROW_TYPES)))
    for row_type in allowed:
        _row_type(row_type, source, "allowed_row_types")
    layout = Layout(
        name=name,
        tiles=tuple(tiles),
        description=_typed(data, "description", str, source, default=""),
        row_decay=_number(data, "row_decay", source, (0.01, 1.0), defaults.row_decay),
        slot_decay=_number(data, "slot_decay", source, (0.01, 1.0), defaults.slot_decay),
        allowed_row_types=allowed,
        min_tile_kinds=int(_number(data, "min_tile_kinds", source, (1, len(TILE_SLOTS)), 1, integer=True)),
        min_items=int(_number(data, "min_items", source, (0, 30 * MAX_TILES), 0, integer=True)),
        constraints=parse_constraints(data.get("constraints", {}), source=source, field_prefix="constraints."),
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
    data: Any, *, source: str = "<settings>", field_prefix: str = "", base: Constraints | None = None
) -> Constraints:
    """Constraints from a mapping (a layout's [constraints] table, or slider values); unknown keys and
    out-of-range values raise naming the setting and its range."""
    if not isinstance(data, dict):
        raise LayoutError(source, field_prefix.rstrip("."), "must be a table of settings")
    base = base or Constraints()
    known = {f.name for f in dataclasses.fields(Constraints)}
    _no_unknown(data, known, source, field_prefix)
    values: dict[str, Any] = {}
    for key, (low, high) in CONSTRAINT_RANGES.items():
        if key in data:
            integer = isinstance(getattr(base, key), int)
            values[key] = _number(data, key, source, (low, high), None, integer=integer, prefix=field_prefix)
    if "dedup" in data:
        if data["dedup"] not in DEDUP_MODES:
            raise LayoutError(
                source, f"{field_prefix}dedup", f"{data['dedup']!r} is not one of {', '.join(DEDUP_MODES)}"
            )
        values["dedup"] = data["dedup"]
    if "allowed_genres" in data:
        genres = data["allowed_genres"]
        if not isinstance(genres, list) or not all(isinstance(g, str) and g for g in genres):
            raise LayoutError(source, f"{field_prefix}allowed_genres", "must be a list of genre names")
        values["allowed_genres"] = tuple(genres)
    if "required_row_types" in data:
        required = data["required_row_types"]
        if not isinstance(required, list):
            raise LayoutError(source, f"{field_prefix}required_row_types", "must be a list of row types")
        values["required_row_types"] = tuple(
            _row_type(r, source, f"{field_prefix}required_row_types") for r in required
        )
    return dataclasses.replace(base, **values)


def _tiles(data: Any, source: str, where: str) -> list[Tile]:
    if not isinstance(data, dict):
        raise LayoutError(source, where, "must be a table")
    _no_unknown(data, _TILE_KEYS, source, f"{where}.")
    kind = _typed(data, "kind", str, source, prefix=f"{where}.")
    if kind not in TILE_SLOTS:
        raise LayoutError(source, f"{where}.kind", f"{kind!r} is not one of {', '.join(TILE_SLOTS)}")
    low, high = TILE_SLOTS[kind]
    columns = None
    if kind == "grid":
        rows = int(_number(data, "rows", source, (2, 6), None, integer=True, prefix=f"{where}."))
        columns = int(_number(data, "columns", source, (2, 8), None, integer=True, prefix=f"{where}."))
        slots = rows * columns
    elif kind == "hero":
        slots = int(_number(data, "slots", source, (1, 1), 1, integer=True, prefix=f"{where}."))
    else:
        slots = int(_number(data, "slots", source, (low, high), None, integer=True, prefix=f"{where}."))
    pinned = data.get("pinned")
    if pinned is not None:
        _row_type(pinned, source, f"{where}.pinned")
    repeat = int(_number(data, "repeat", source, (1, MAX_TILES), 1, integer=True, prefix=f"{where}."))
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


def _number(
    data: dict[str, Any],
    key: str,
    source: str,
    bounds: tuple[float, float],
    default: float | None,
    *,
    integer: bool = False,
    prefix: str = "",
) -> float:
    low, high = bounds
    if key not in data:
        if default is None:
            raise LayoutError(source, f"{prefix}{key}", f"is required ({low}–{high})")
        return default
    value = data[key]
    wanted = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise LayoutError(
            source,
            f"{prefix}{key}",
            f"must be {'an integer' if integer else 'a number'} in {low}–{high}, got {value!r}",
        )
    if not low <= value <= high:
        raise LayoutError(source, f"{prefix}{key}", f"{value} is outside {low}–{high}")
    return value


def _row_type(value: Any, source: str, where: str) -> str:
    if value not in ROW_TYPES:
        raise LayoutError(source, where, f"{value!r} is not a row type; row types: {', '.join(ROW_TYPES)}")
    return value
