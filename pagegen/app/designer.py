"""The layout designer's form as data: a layout's tiles as editable table records and back, and a
draft layout from the form's values, validated by the same rules as a layout file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import tomlkit

from pagegen.errors import LayoutError
from pagegen.layout import Layout, layout_from_data, layout_to_toml

TILE_COLUMNS = ("kind", "slots", "columns", "pinned")


def tile_records(layout: Layout) -> list[dict[str, Any]]:
    """One record per tile (kind, slots, grid columns, pinned row type), top to bottom."""
    return [{"kind": t.kind, "slots": t.slots, "columns": t.columns, "pinned": t.pinned} for t in layout.tiles]


def draft_layout(
    base: Layout,
    *,
    name: str,
    description: str,
    row_decay: float,
    slot_decay: float,
    tiles: Sequence[dict[str, Any]],
    required_row_types: Sequence[str],
    source: str = "designer",
) -> Layout:
    """``base`` with the form's values, validated: errors name the field (``tiles[2].slots``…)."""
    data = tomlkit.parse(layout_to_toml(base)).unwrap()
    data.update(name=name, description=description, row_decay=row_decay, slot_decay=slot_decay)
    data["tiles"] = [_tile_data(record, index, source) for index, record in enumerate(tiles)]
    data["constraints"]["required_row_types"] = list(required_row_types)
    return layout_from_data(data, source=source)


def _tile_data(record: dict[str, Any], index: int, source: str) -> dict[str, Any]:
    """A tile record as the layout file writes it (a grid as rows × columns)."""
    kind, slots, columns, pinned = (_blank_to_none(record.get(key)) for key in TILE_COLUMNS)
    where = f"tiles[{index}]"
    if kind is None:
        raise LayoutError(source, f"{where}.kind", "is required")
    if slots is None:
        raise LayoutError(source, f"{where}.slots", "is required")
    data: dict[str, Any] = {"kind": kind}
    if kind == "grid":
        if not columns:
            raise LayoutError(source, f"{where}.columns", "a grid needs its number of columns")
        if int(slots) % int(columns):
            raise LayoutError(source, f"{where}.slots", f"{slots} cards do not fill {columns} columns evenly")
        data.update(rows=int(slots) // int(columns), columns=int(columns))
    else:
        data["slots"] = int(slots)
    if pinned is not None:
        data["pinned"] = pinned
    return data


def _blank_to_none(value: Any) -> Any:
    """A table cell left empty arrives as None, NaN or ""."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


__all__ = ["TILE_COLUMNS", "draft_layout", "tile_records"]
