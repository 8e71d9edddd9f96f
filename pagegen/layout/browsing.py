"""How a person reads a page of carousels: the one browsing model the optimizer maximises and the page
evaluation measures with.

A position-based examination model (Richardson et al. 2007; Craswell et al. 2008) on the page's two
axes: the person looks at the tile ``t`` rows from the top with probability ``row_decay ** t`` (each
further row is reached with probability ``row_decay``) and, in a tile they look at, at the card ``s``
places along with probability ``slot_decay ** s``; a card is examined with the product. A card the
person wants is found when it is examined, so a page with card values P (the ranker's calibrated
probability that this is the user's next item) holds Σ examination × P expected good picks seen, and a
held-out next item shown at (t, s) is found with probability examination(t, s). The layout's
``row_decay`` and ``slot_decay`` are this model's two parameters.
"""

from __future__ import annotations

from pagegen.layout.model import Layout


def tile_examination(layout: Layout, tile: int) -> float:
    """P(the person looks at tile ``tile`` at all)."""
    return layout.row_decay**tile


def slot_examination(layout: Layout, slot: int) -> float:
    """P(the person looks at card ``slot`` of a tile they look at)."""
    return layout.slot_decay**slot


def examination(layout: Layout, tile: int, slot: int) -> float:
    """P(the person examines card ``slot`` of tile ``tile``)."""
    return tile_examination(layout, tile) * slot_examination(layout, slot)
