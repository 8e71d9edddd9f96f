"""Page layouts: the tiles of a page top to bottom, attention weights, pinned rows and the default
constraint values, read from TOML files in ``layouts/`` that people edit.

Layouts are data, never code: ``model`` holds the frozen dataclasses and their ranges, ``validation``
turns plain data into them naming the file, the field and the reason of every error, and ``toml``
reads and writes the files.
"""

from pagegen.layout.model import (
    CONSTRAINT_RANGES,
    DEDUP_MODES,
    MAX_TILES,
    TILE_SLOTS,
    Constraints,
    Layout,
    Tile,
    resize_layout,
)
from pagegen.layout.toml import (
    LAYOUTS_DIR,
    LAYOUTS_DIR_ENV,
    MAX_LAYOUT_BYTES,
    layout_file_name,
    layout_to_toml,
    layouts_dir,
    load_layout,
    parse_layout,
    parse_upload,
    resolve_layout,
    save_layout,
    shipped_layouts,
)
from pagegen.layout.validation import layout_from_data, parse_constraints

__all__ = [
    "CONSTRAINT_RANGES",
    "DEDUP_MODES",
    "LAYOUTS_DIR",
    "LAYOUTS_DIR_ENV",
    "MAX_LAYOUT_BYTES",
    "MAX_TILES",
    "TILE_SLOTS",
    "Constraints",
    "Layout",
    "Tile",
    "layout_file_name",
    "layout_from_data",
    "layout_to_toml",
    "layouts_dir",
    "load_layout",
    "parse_constraints",
    "parse_layout",
    "parse_upload",
    "resize_layout",
    "resolve_layout",
    "save_layout",
    "shipped_layouts",
]
