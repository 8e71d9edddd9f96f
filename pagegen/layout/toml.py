"""Layout files: TOML read with tomlkit (which keeps comments and formatting, so a file loaded and saved
unchanged is byte-identical), the layouts folder, atomic saves and uploads parsed as data, never as paths."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from pagegen.errors import LayoutError
from pagegen.files import SOURCE_ROOT, atomic_path
from pagegen.layout.model import Constraints, Layout, Tile
from pagegen.layout.validation import layout_from_data
from pagegen.vocabulary import ROW_TYPES


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


LAYOUTS_DIR = SOURCE_ROOT / "layouts"  # the layouts shipped with the source
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
