"""The layout model: tiles, the default constraint values and the attention weights of a page, as frozen
dataclasses, with the bounds every layout value and slider setting must stay within."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from pagegen.errors import LayoutError
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
