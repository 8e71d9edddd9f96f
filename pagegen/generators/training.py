"""What every generator fits on: a split's interactions indexed densely over the whole catalogue.

Item indices cover every catalogue item (not only those with interactions) so that cold items
have a place in every score vector, and all generators of a dataset agree on what column ``j`` is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import scipy.sparse as sp

from pagegen.data import schema as S
from pagegen.data.split import chronological
from pagegen.data.store import Dataset
from pagegen.errors import UnknownItemError, UnknownUserError


@dataclass(frozen=True, eq=False)
class TrainingData:
    dataset: str
    fingerprint: str
    split: str
    item_ids: np.ndarray  # dense item index → catalogue item id
    user_ids: np.ndarray  # user row → user id, ascending
    indptr: np.ndarray  # row r's history is items[indptr[r]:indptr[r + 1]], oldest first
    items: np.ndarray  # dense item indices
    timestamps: np.ndarray  # aligned with items
    catalogue: pl.DataFrame  # the items table, row j describing dense item j

    @cached_property
    def text_digest(self) -> str:
        """A hash of the catalogue's text (titles, genres, descriptions): what text models depend on."""
        columns = [c for c in (S.TITLE, S.YEAR, S.GENRES, "description") if c in self.catalogue.columns]
        return hashlib.sha256(self.catalogue.select(columns).write_json().encode()).hexdigest()[:16]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def user_row(self, user_id: int) -> int:
        rows, found = lookup(self.user_ids, [user_id])
        if not found.all():
            raise UnknownUserError(user_id, self.dataset)
        return int(rows[0])

    def history(self, user_id: int) -> np.ndarray:
        """The user's item indices in time order (repeats kept)."""
        row = self.user_row(user_id)
        return self.items[self.indptr[row] : self.indptr[row + 1]]

    def histories(self) -> list[np.ndarray]:
        return [self.items[start:end] for start, end in zip(self.indptr[:-1], self.indptr[1:], strict=True)]

    def item_index(self, item_id: int) -> int:
        return int(self.item_indices([item_id])[0])

    def item_indices(self, item_ids: np.ndarray | list[int]) -> np.ndarray:
        """Dense indices of known items; unknown ids raise naming the first one."""
        indices, found = lookup(self.item_ids, item_ids)
        if not found.all():
            raise UnknownItemError(int(np.asarray(item_ids)[~found][0]), self.dataset)
        return indices

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Users × items, 1 where the user interacted with the item (repeats count once)."""
        return histories_matrix(self.histories(), self.n_items)

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Distinct users per item in this split."""
        return np.asarray(self.matrix.sum(axis=0)).ravel()


def lookup(sorted_ids: np.ndarray, ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in the ascending array ``sorted_ids``, and which of them are there at all."""
    wanted = np.asarray(ids, dtype=np.int64)
    if not len(sorted_ids):
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    positions = np.searchsorted(sorted_ids, wanted).clip(max=len(sorted_ids) - 1)
    return positions, sorted_ids[positions] == wanted


def histories_matrix(histories: list[np.ndarray], n_items: int) -> sp.csr_matrix:
    """Binary rows from item-index histories: the input every linear model scores."""
    indptr = np.zeros(len(histories) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(h) for h in histories])
    indices = np.concatenate(histories).astype(np.int32) if histories else np.zeros(0, dtype=np.int32)
    matrix = sp.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(len(histories), n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def build_training_data(dataset: Dataset, interactions: pl.DataFrame, *, split: str) -> TrainingData:
    """Index ``interactions`` (one split of ``dataset``) over ``dataset``'s whole catalogue."""
    catalogue = dataset.items.sort(S.ITEM_ID)
    item_ids = catalogue[S.ITEM_ID].to_numpy().astype(np.int64)
    ordered = chronological(interactions)
    users = ordered[S.USER_ID].to_numpy().astype(np.int64)
    user_ids, counts = np.unique(users, return_counts=True)
    indptr = np.zeros(len(user_ids) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(counts)
    raw_items = ordered[S.ITEM_ID].to_numpy()
    items, found = lookup(item_ids, raw_items)
    if not found.all():
        raise UnknownItemError(int(raw_items[~found][0]), dataset.name)
    return TrainingData(
        dataset=dataset.name,
        fingerprint=dataset.fingerprint,
        split=split,
        item_ids=item_ids,
        user_ids=user_ids,
        indptr=indptr,
        items=items.astype(np.int32),
        timestamps=ordered[S.TIMESTAMP].to_numpy().astype(np.int64),
        catalogue=catalogue,
    )
