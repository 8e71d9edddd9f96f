"""Stage 2 of the pipeline: candidate generators that score every catalogue item for a user."""

from __future__ import annotations

from pagegen.errors import UnknownModelError
from pagegen.generators.base import Generator, Validation
from pagegen.generators.content import Content
from pagegen.generators.ease import EASE
from pagegen.generators.popularity import Popularity, Trending
from pagegen.generators.sasrec import SASRec
from pagegen.generators.training import TrainingData, build_training_data

GENERATORS: dict[str, type[Generator]] = {cls.name: cls for cls in (EASE, SASRec, Content, Popularity, Trending)}


def generator_class(name: str) -> type[Generator]:
    try:
        return GENERATORS[name]
    except KeyError:
        raise UnknownModelError(name, sorted(GENERATORS)) from None


__all__ = [
    "EASE",
    "GENERATORS",
    "Content",
    "Generator",
    "Popularity",
    "SASRec",
    "TrainingData",
    "Trending",
    "Validation",
    "build_training_data",
    "generator_class",
]
