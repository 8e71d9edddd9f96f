"""The layout model: tiles, the default constraint values and the attention weights of a page, as frozen
dataclasses, with the bounds every layout value and slider setting must stay within."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from pagegen.errors import SettingsError
from pagegen.vocabulary import ASKED_ROW, ROW_TYPES


@dataclass(frozen=True)
class Range:
    """The values a number may take, defined once: what validation accepts and a slider's bounds and step.
    Whole numbers when all three are ints."""

    low: float
    high: float
    step: float

    @property
    def integer(self) -> bool:
        return all(isinstance(bound, int) for bound in (self.low, self.high, self.step))

    def __str__(self) -> str:
        return f"{self.low}–{self.high}"

    def check(self, setting: str, value: object, *, source: str = "settings") -> float:
        """``value`` if it is in range (a fractional setting's as a float, so a slider gets matching
        types); otherwise a SettingsError naming the setting, the value and the range."""
        kinds = int if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not self.low <= value <= self.high:
            number = "a whole number between" if self.integer else "between"
            raise SettingsError(setting, f"must be {number} {self.low} and {self.high}, got {value!r}", source=source)
        return value if self.integer else float(value)


MAX_TILES = 30
GRID_RANGES = {"rows": Range(2, 6, 1), "columns": Range(2, 8, 1)}  # a grid's slots are rows × columns
TILE_SLOTS = {
    "carousel": Range(3, 30, 1),
    "hero": Range(1, 1, 1),
    "grid": Range(GRID_RANGES["rows"].low * GRID_RANGES["columns"].low, GRID_RANGES["rows"].high * GRID_RANGES["columns"].high, 1),
    "banner": Range(2, 3, 1),
}  # fmt: skip
TILE_REPEAT = Range(1, MAX_TILES, 1)
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


# Each numeric constraint's range: what a layout file, a slider, a link and ``--set`` may give it.
CONSTRAINT_RANGES = {
    "max_genre_share": Range(0.1, 1.0, 0.05),
    "min_page_genres": Range(0, 19, 1),
    "popularity_beta": Range(-1.0, 1.0, 0.1),
    "min_new_items": Range(0, 20, 1),
    "min_relevance_quantile": Range(0.0, 0.99, 0.05),
    "dedup_penalty": Range(0.0, 1.0, 0.05),
    "max_rows_per_type": Range(1, 10, 1),
}
# The page-wide numbers of a layout file (the designer's decay sliders use the decays').
LAYOUT_RANGES = {
    "row_decay": Range(0.01, 1.0, 0.01),
    "slot_decay": Range(0.01, 1.0, 0.01),
    "min_tile_kinds": Range(1, len(TILE_SLOTS), 1),
    "min_items": Range(0, TILE_SLOTS["carousel"].high * MAX_TILES, 1),
}
# The page-size sliders: how many tiles, and the cards of every carousel.
PAGE_SIZE_RANGES = {"rows": Range(1, MAX_TILES, 1), "slots": TILE_SLOTS["carousel"]}


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


def resize_layout(layout: Layout, *, rows: int | None = None, slots: int | None = None) -> Layout:
    """``layout`` with ``rows`` tiles and carousels of ``slots`` cards (the page-size sliders). Pinned
    tiles stay while they fit; added tiles copy the last unpinned tile."""
    tiles = list(layout.tiles)
    if slots is not None:
        PAGE_SIZE_RANGES["slots"].check("slots", slots)
        tiles = [dataclasses.replace(t, slots=slots) if t.kind == "carousel" else t for t in tiles]
    if rows is not None:
        PAGE_SIZE_RANGES["rows"].check("rows", rows)
        template = next((t for t in reversed(tiles) if t.pinned is None), dataclasses.replace(tiles[-1], pinned=None))
        tiles = tiles[:rows] + [template] * (rows - len(tiles))
    resized = dataclasses.replace(layout, tiles=tuple(tiles))
    if resized.total_slots < layout.min_items or len({t.kind for t in tiles}) < layout.min_tile_kinds:
        resized = dataclasses.replace(resized, min_items=min(layout.min_items, resized.total_slots), min_tile_kinds=1)
    return resized


ASKED_SLOTS = 10  # cards of an asked row on a layout without carousels to copy


def with_asked_tiles(layout: Layout, row_ids: tuple[str, ...]) -> Layout:
    """``layout`` with one carousel on top per asked row, each pinned to its row by id, in the given order
    (newest request first). An asked carousel is as wide as the layout's widest carousel."""
    if not row_ids:
        return layout
    slots = max((tile.slots for tile in layout.tiles if tile.kind == "carousel"), default=ASKED_SLOTS)
    asked = tuple(Tile("carousel", slots, pinned=row_id) for row_id in row_ids)
    return dataclasses.replace(
        layout,
        tiles=asked + layout.tiles,
        allowed_row_types=tuple(dict.fromkeys((*layout.allowed_row_types, ASKED_ROW))),
    )
