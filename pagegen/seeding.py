"""Determinism through one helper: every stochastic step takes a seed and normalizes it here."""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """An ``int`` gives a fresh reproducible generator; a generator is used as is; ``None`` is seed 0."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(0 if seed is None else seed)
