"""The calibrated ranker: P(the user's next item is this one) for every catalogue item.

A conditional logit (McFadden 1974) over the generators' features: each unseen item's probability is
``softmax(w · x)`` over every unseen item of the catalogue, fitted by maximum likelihood on the
validation split's held-out next items (histories: the train split; generators fitted on it). A softmax
over the whole catalogue is a proper probability of what comes next — it sums to one per user and its
log loss rewards calibration — so rows built from different generators score their cards in one unit,
and a page's value reads as "expected good picks seen". A handful of weights on ~1 000 positives
(ml-100k) keeps it from overfitting, where a boosted model had too little data (see the README).

Saved as JSON beside the generators (weights, feature scaling, and the generators' array digests it
was fitted on): loaded only when those match, refitted in seconds otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from pagegen.errors import ArtifactError, ModelFitError
from pagegen.files import atomic_path
from pagegen.generators.artifacts import MODELS
from pagegen.generators.base import Generator, Validation
from pagegen.generators.training import TrainingData
from pagegen.ranker.features import RANKED_GENERATORS, ItemTable, feature_names, features
from pagegen.vocabulary import RANKER

L2 = 1e-3  # ridge on the (standardized) weights: keeps a rarely-informative feature near zero
MAX_CELLS = 6_000_000  # users × items fitted on at most: a spread sample of users on a large catalogue
MIN_USERS = 200
BATCH = 256  # users scored at a time


@dataclass(frozen=True)
class RankerWeights:
    """What the ranker learned: standardized features' weights, and the scaling that standardizes them."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    generators: tuple[str, ...]
    validation_log_loss: float
    users: int

    def to_dict(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value for key, value in self.__dict__.items()}


class Ranker:
    """Calibrated next-item probabilities from fitted generators' scores."""

    def __init__(self, generators: Mapping[str, Generator], data: TrainingData, weights: RankerWeights) -> None:
        missing = [name for name in weights.generators if name not in generators]
        if missing:
            raise ModelFitError(f"the ranker was fitted with {', '.join(missing)}, which this page does not load")
        self.generators, self.data, self.weights = generators, data, weights
        self.items = ItemTable.of(data)
        self._mean = np.array(weights.mean)
        self._scale = np.array(weights.scale)
        self._w = np.array(weights.weights)

    @property
    def generator_names(self) -> tuple[str, ...]:
        return self.weights.generators

    def logits(self, raw: Mapping[str, np.ndarray], histories: Sequence[np.ndarray]) -> np.ndarray:
        """users × items: each item's log-odds before normalising (seen items included)."""
        x = features(raw, histories, self.weights.generators, self.items)
        return ((x - self._mean) / self._scale) @ self._w

    def probabilities(self, raw: Mapping[str, np.ndarray], histories: Sequence[np.ndarray]) -> np.ndarray:
        """users × items: P(next item) over the unseen items of each history; seen items 0."""
        return softmax_unseen(self.logits(raw, histories), histories)

    def score_histories(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """users × items log-probabilities (seen items −inf): the generator-shaped view ``evaluate`` ranks."""
        out = np.empty((len(histories), self.data.n_items), dtype=np.float64)
        for start in range(0, len(histories), BATCH):
            batch = list(histories[start : start + BATCH])
            raw = {name: self.generators[name].score_histories(batch) for name in self.weights.generators}
            out[start : start + len(batch)] = log_softmax_unseen(self.logits(raw, batch), batch)
        return out


def softmax_unseen(logits: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
    """Each row's softmax over the items not in its history (seen items get 0)."""
    return np.exp(log_softmax_unseen(logits, histories))


def log_softmax_unseen(logits: np.ndarray, histories: Sequence[np.ndarray]) -> np.ndarray:
    masked = np.array(logits, dtype=np.float64)
    for row, history in enumerate(histories):
        masked[row, np.asarray(history, dtype=np.int64)] = -np.inf
    top = masked.max(axis=1, keepdims=True)
    return masked - top - np.log(np.exp(masked - top).sum(axis=1, keepdims=True))


def fit_ranker(
    generators: Mapping[str, Generator], data: TrainingData, validation: Validation, *, l2: float = L2
) -> Ranker:
    """Fit the weights on ``validation`` (histories of ``data``, the split the generators were fitted on).
    Deterministic: the same generators and split give the same weights."""
    names = tuple(name for name in RANKED_GENERATORS if name in generators)
    limit = max(MIN_USERS, MAX_CELLS // max(data.n_items, 1))
    usable = [u for u, (h, t) in enumerate(zip(validation.histories, validation.targets, strict=True)) if t not in h]
    held_out = Validation(
        histories=[validation.histories[u] for u in usable], targets=validation.targets[usable]
    ).spread(limit)
    if not len(held_out.targets):
        raise ModelFitError("the ranker needs validation users whose next item they have not seen before")
    items = ItemTable.of(data)
    parts = []
    for start in range(0, len(held_out.histories), BATCH):
        batch = held_out.histories[start : start + BATCH]
        raw = {name: generators[name].score_histories(batch) for name in names}
        parts.append(features(raw, batch, names, items))
    x = np.concatenate(parts)  # users × items × features
    seen = np.zeros(x.shape[:2], dtype=bool)
    for u, history in enumerate(held_out.histories):
        seen[u, np.asarray(history, dtype=np.int64)] = True
    flat = x.reshape(-1, x.shape[-1])[~seen.ravel()]
    mean, scale = flat.mean(axis=0), np.maximum(flat.std(axis=0), 1e-6)
    z = (x - mean) / scale
    rows = np.arange(len(held_out.targets))
    positives = z[rows, held_out.targets]  # users × features

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        logits = np.where(seen, -np.inf, z @ w)
        top = logits.max(axis=1, keepdims=True)
        weights = np.exp(logits - top)
        total = weights.sum(axis=1, keepdims=True)
        p = weights / total
        log_loss = float(np.mean(top[:, 0] + np.log(total[:, 0]) - positives @ w))
        gradient = (np.einsum("ui,uif->f", p, z) - positives.sum(axis=0)) / len(rows)
        return log_loss + l2 * float(w @ w), gradient + 2 * l2 * w

    result = minimize(loss, np.zeros(z.shape[-1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    if not np.isfinite(result.x).all():
        raise ModelFitError(f"the ranker's fit did not converge ({result.message})")
    weights = RankerWeights(
        names=feature_names(names),
        mean=tuple(round(float(v), 8) for v in mean),
        scale=tuple(round(float(v), 8) for v in scale),
        weights=tuple(round(float(v), 8) for v in result.x),
        generators=names,
        validation_log_loss=round(float(loss(result.x)[0] - l2 * float(result.x @ result.x)), 6),
        users=len(rows),
    )
    return Ranker(generators, data, weights)


def ranker_path(data_dir: Path, data: TrainingData) -> Path:
    return data_dir / data.dataset / MODELS / f"{RANKER}.{data.split}.json"


def fitted_on(generators: Mapping[str, Generator], data: TrainingData, digests: Mapping[str, str]) -> dict[str, Any]:
    """What a saved ranker must match to be reused: the data and each generator's saved arrays."""
    return {
        "dataset": data.dataset,
        "fingerprint": data.fingerprint,
        "split": data.split,
        "generators": {name: digests.get(name) for name in RANKED_GENERATORS if name in generators},
    }


def save_ranker(ranker: Ranker, path: Path, provenance: Mapping[str, Any]) -> Path:
    """Write the weights atomically (a failed write leaves the last good file)."""
    payload = {"model": RANKER, "fitted_on": dict(provenance), "weights": ranker.weights.to_dict()}
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def load_ranker(
    path: Path, generators: Mapping[str, Generator], data: TrainingData, provenance: Mapping[str, Any]
) -> Ranker | None:
    """The saved ranker when it was fitted on exactly ``provenance``; None when there is none or it is stale."""
    if not path.is_file():
        return None
    try:
        payload = json.loads(path.read_text())
        if payload.get("fitted_on") != dict(provenance):
            return None
        saved = payload["weights"]
        weights = RankerWeights(
            **{key: tuple(value) if isinstance(value, list) else value for key, value in saved.items()}
        )
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise ArtifactError(f"{path} is corrupted ({error}); delete it and the page will refit the ranker") from error
    if weights.names != feature_names(weights.generators):
        return None  # fitted with other features: refit
    return Ranker(generators, data, weights)
