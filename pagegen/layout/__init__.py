"""Page layouts: the tiles of a page top to bottom, attention weights, pinned rows and the default
constraint values, read from TOML files in ``layouts/`` that people edit.

Layouts are data, never code: ``model`` holds the frozen dataclasses and every range a layout value or a
slider setting must stay within, ``validation`` turns plain data into them naming the file, the field and
the reason of every error, ``toml`` reads and writes the files, and ``sliders`` says what each setting slider
holds a page to on a layout and at which values that changes.
"""

from pagegen.layout.model import (
    CONSTRAINT_RANGES,
    DEDUP_MODES,
    GRID_RANGES,
    LAYOUT_RANGES,
    MAX_TILES,
    PAGE_SIZE_RANGES,
    TILE_SLOTS,
    Constraints,
    Layout,
    Range,
    Tile,
    resize_layout,
    with_asked_tiles,
)
from pagegen.layout.sliders import (
    ROWS_OF_TYPE,
    RULE_LABELS,
    SLIDER_LABELS,
    SLIDER_RANGES,
    EffectiveRule,
    effective_rule,
    inactive_reason,
    rule_label,
    slider_steps,
    snap,
    tile_genre_cap,
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
    "GRID_RANGES",
    "LAYOUTS_DIR",
    "LAYOUTS_DIR_ENV",
    "LAYOUT_RANGES",
    "MAX_LAYOUT_BYTES",
    "MAX_TILES",
    "PAGE_SIZE_RANGES",
    "ROWS_OF_TYPE",
    "RULE_LABELS",
    "SLIDER_LABELS",
    "SLIDER_RANGES",
    "TILE_SLOTS",
    "Constraints",
    "EffectiveRule",
    "Layout",
    "Range",
    "Tile",
    "effective_rule",
    "inactive_reason",
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
    "rule_label",
    "save_layout",
    "shipped_layouts",
    "slider_steps",
    "snap",
    "tile_genre_cap",
    "with_asked_tiles",
]
