"""Page layouts: the tiles of a page top to bottom, attention weights, pinned rows and the default
constraint values, read from TOML files in ``layouts/`` that people edit.

Layouts are data, never code: parsed with tomlkit (which keeps comments and formatting, so a file
loaded and saved unchanged is byte-identical), validated field by field, and every error names the
file, the field and the reason.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from pagegen.errors import LayoutError
from pagegen.files import atomic_path
from pagegen.vocabulary import ROW_TYPES

TILE_SLOTS = {"carousel": (3, 30), "hero": (1, 1), "grid": (4, 48), "banner": (2, 3)}
MAX_TILES = 30
DEDUP_MODES = ("hard", "soft")


@dataclass(frozen=True)
class Tile:
    kind: str
    slots: int
    pinned: str | None = None  # a row type that must fill this tile
    columns: int | None = None  # grids: slots are rows × columns


@dataclass(frozen=True)
class Constraints:
    """What the optimizer must respect; a layout sets the defaults, sliders override them."""

    max_genre_share: float = 0.5
    min_page_genres: int = 5
    popularity_beta: float = 0.0
    min_new_items: int = 0
    required_row_types: tuple[str, ...] = ()
    allowed_genres: tuple[str, ...] = ()  # empty: every genre may appear (the kids page lists two)
    min_relevance_quantile: float = 0.5
    dedup: str = "hard"
    dedup_penalty: float = 0.5
    max_rows_per_type: int = 3


# Each numeric setting's accepted range: a slider's bounds, and the message when a value is outside.
CONSTRAINT_RANGES: dict[str, tuple[float, float]] = {
    "max_genre_share": (0.1, 1.0),
    "min_page_genres": (0, 19),
    "popularity_beta": (-1.0, 1.0),
    "min_new_items": (0, 20),
    "min_relevance_quantile": (0.0, 0.99),
    "dedup_penalty": (0.0, 1.0),
    "max_rows_per_type": (1, 10),
}


@dataclass(frozen=True)
class Layout:
    name: str
    tiles: tuple[Tile, ...]
    description: str = ""
    row_decay: float = 0.85  # attention of the r-th tile from the top: row_decay ** r
    slot_decay: float = 0.9  # attention of the s-th slot in a tile: slot_decay ** s
    allowed_row_types: tuple[str, ...] = ROW_TYPES
    min_tile_kinds: int = 1  # page rules of the page-design exercise
    min_items: int = 0
    constraints: Constraints = field(default_factory=Constraints)

    @property
    def total_slots(self) -> int:
        return sum(tile.slots for tile in self.tiles)


def parse_layout(text: str, *, source: str = "<layout>") -> Layout:
    """A validated Layout from TOML text; ``source`` names the file in errors."""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as error:
        raise LayoutError(source, "", f"not valid TOML ({error})") from error
    return layout_from_data(document.unwrap(), source=source)


def load_layout(path: Path) -> Layout:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LayoutError(str(path), "", f"cannot be read ({error})") from error
    return parse_layout(text, source=str(path))


LAYOUTS_DIR = Path(__file__).resolve().parent.parent / "layouts"  # the layouts shipped with the source
LAYOUTS_DIR_ENV = "PAGEGEN_LAYOUTS_DIR"  # where layouts are listed and saved instead (tests, shared setups)


def layouts_dir() -> Path:
    return Path(os.environ.get(LAYOUTS_DIR_ENV) or LAYOUTS_DIR)


def shipped_layouts() -> dict[str, Path]:
    """The layout files in the layouts folder by name (file stem): shipped ones and those saved there."""
    return {path.stem: path for path in sorted(layouts_dir().glob("*.toml"))}


def resolve_layout(name_or_path: str) -> Layout:
    """A shipped layout by name (``default``, ``mobile``…) or a layout file by path."""
    shipped = shipped_layouts()
    if name_or_path in shipped:
        return load_layout(shipped[name_or_path])
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return load_layout(path)
    raise LayoutError(
        name_or_path, "", f"no such layout file; shipped layouts: {', '.join(shipped) or 'none (no layouts/ folder)'}"
    )


def layout_to_toml(layout: Layout, *, original: str | None = None) -> str:
    """TOML for ``layout``. Given the text it was loaded from, only the values that changed are
    rewritten, so comments and formatting survive and an unchanged layout gives back the same bytes."""
    document = tomlkit.parse(original) if original is not None else tomlkit.document()
    before = layout_from_data(document.unwrap(), source="<original>") if original is not None else None
    for key in _SCALAR_FIELDS:
        if before is None or getattr(before, key) != getattr(layout, key):
            if key == "allowed_row_types" and before is None and layout.allowed_row_types == ROW_TYPES:
                continue  # the default: leave it out of a new file
            document[key] = _plain(getattr(layout, key))
    if "constraints" not in document:
        document["constraints"] = tomlkit.table()
    table = document["constraints"]
    for constraint in dataclasses.fields(Constraints):
        value = getattr(layout.constraints, constraint.name)
        if before is None or getattr(before.constraints, constraint.name) != value:
            table[constraint.name] = _plain(value)
    if before is None or before.tiles != layout.tiles:
        document["tiles"] = _tiles_table(layout.tiles)
    return tomlkit.dumps(document)


_SCALAR_FIELDS = ("name", "description", "row_decay", "slot_decay", "allowed_row_types", "min_tile_kinds", "min_items")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _tiles_table(tiles: tuple[Tile, ...]) -> Any:
    """Tiles as [[tiles]] entries, runs of identical unpinned tiles written once with ``repeat``."""
    entries = tomlkit.aot()
    index = 0
    while index < len(tiles):
        tile = tiles[index]
        run = 1
        while tile.pinned is None and index + run < len(tiles) and tiles[index + run] == tile:
            run += 1
        entry: dict[str, Any] = {"kind": tile.kind}
        if tile.kind == "grid" and tile.columns:
            entry.update(rows=tile.slots // tile.columns, columns=tile.columns)
        else:
            entry["slots"] = tile.slots
        if tile.pinned is not None:
            entry["pinned"] = tile.pinned
        if run > 1:
            entry["repeat"] = run
        entries.append(tomlkit.item(entry))
        index += run
    return entries


MAX_LAYOUT_BYTES = 64_000  # an uploaded layout file larger than this is refused before parsing
_FILE_STEM = re.compile(r"[^a-z0-9]+")


def layout_file_name(name: str) -> str:
    """The file name a layout is saved under in ``layouts/``: its name reduced to ``[a-z0-9-]``, so a
    name can never be a path."""
    stem = _FILE_STEM.sub("-", name.lower()).strip("-")[:60]
    if not stem:
        raise LayoutError("<layout>", "name", f"{name!r} has no letters or digits to name a file after")
    return f"{stem}.toml"


def save_layout(layout: Layout, directory: Path | None = None, *, overwrite: bool = False) -> Path:
    """Write ``layout`` to ``directory`` (the layouts folder by default) atomically, keeping an existing
    file's comments when it is replaced; refuses to replace a file unless ``overwrite``."""
    target = (directory or layouts_dir()) / layout_file_name(layout.name)
    original = None
    if target.exists():
        if not overwrite:
            raise LayoutError(
                str(target), "name", "a layout file with this name exists; choose another name or overwrite"
            )
        original = target.read_text(encoding="utf-8")
    text = layout_to_toml(layout, original=original)
    parse_layout(text, source=str(target))  # never write what would not load back
    with atomic_path(target) as temp:
        temp.write_text(text, encoding="utf-8")
    return target


def parse_upload(content: bytes, *, source: str = "uploaded layout") -> tuple[Layout, str]:
    """A layout from an uploaded file's bytes (never its name): size-checked, UTF-8, TOML, validated."""
    if len(content) > MAX_LAYOUT_BYTES:
        raise LayoutError(source, "", f"{len(content):,} bytes; a layout file is at most {MAX_LAYOUT_BYTES:,}")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LayoutError(source, "", f"is not UTF-8 text ({error.reason} at byte {error.start})") from error
    return parse_layout(text, source=source), text


def resize_layout(layout: Layout, *, rows: int | None = None, slots: int | None = None) -> Layout:
    """``layout`` with ``rows`` tiles and carousels of ``slots`` cards (the page-size sliders). Pinned
    tiles stay while they fit; added tiles copy the last unpinned tile."""
    tiles = list(layout.tiles)
    if slots is not None:
        low, high = TILE_SLOTS["carousel"]
        if not low <= slots <= high:
            raise LayoutError("settings", "slots", f"{slots} is outside {low}–{high}")
        tiles = [dataclasses.replace(t, slots=slots) if t.kind == "carousel" else t for t in tiles]
    if rows is not None:
        if not 1 <= rows <= MAX_TILES:
            raise LayoutError("settings", "rows", f"{rows} is outside 1–{MAX_TILES}")
        template = next((t for t in reversed(tiles) if t.pinned is None), dataclasses.replace(tiles[-1], pinned=None))
        tiles = tiles[:rows] + [template] * (rows - len(tiles))
    resized = dataclasses.replace(layout, tiles=tuple(tiles))
    if resized.total_slots < layout.min_items or len({t.kind for t in tiles}) < layout.min_tile_kinds:
        resized = dataclasses.replace(resized, min_items=min(layout.min_items, resized.total_slots), min_tile_kinds=1)
    return resized


# -- validation ------------------------------------------------------------------------------------
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
