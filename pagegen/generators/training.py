"""What every generator fits on: a split's interactions indexed densely over the whole catalogue.

Item indices cover every catalogue item (not only those with interactions) so that cold items
have a place in every score vector, and all generators of a dataset agree on what column ``j`` is.
"""

from __future__ import annotations

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

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def user_row(self, user_id: int) -> int:
        row = int(np.searchsorted(self.user_ids, user_id))
        if row == len(self.user_ids) or self.user_ids[row] != user_id:
            raise UnknownUserError(user_id, self.dataset)
        return row

    def has_user(self, user_id: int) -> bool:
        row = int(np.searchsorted(self.user_ids, user_id))
        return row < len(self.user_ids) and self.user_ids[row] == user_id

    def history(self, user_id: int) -> np.ndarray:
        """The user's item indices in time order (repeats kept)."""
        row = self.user_row(user_id)
        return self.items[self.indptr[row] : self.indptr[row + 1]]

    def histories(self) -> list[np.ndarray]:
        return [self.items[start:end] for start, end in zip(self.indptr[:-1], self.indptr[1:], strict=True)]

    def item_index(self, item_id: int) -> int:
        index = int(np.searchsorted(self.item_ids, item_id))
        if index == len(self.item_ids) or self.item_ids[index] != item_id:
            raise UnknownItemError(item_id, self.dataset)
        return index

    def item_indices(self, item_ids: np.ndarray | list[int]) -> np.ndarray:
        """Dense indices of known items; unknown ids raise naming the first one."""
        ids = np.asarray(item_ids, dtype=np.int64)
        indices = np.searchsorted(self.item_ids, ids).clip(max=max(self.n_items - 1, 0))
        unknown = self.item_ids[indices] != ids
        if unknown.any():
            raise UnknownItemError(int(ids[unknown][0]), self.dataset)
        return indices

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Users × items, 1 where the user interacted with the item (repeats count once)."""
        return histories_matrix(self.histories(), self.n_items)

    @cached_property
    def item_counts(self) -> np.ndarray:
        """Distinct users per item in this split."""
        return np.asarray(self.matrix.sum(axis=0)).ravel()


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
    items = np.searchsorted(item_ids, ordered[S.ITEM_ID].to_numpy().astype(np.int64))
    unknown = (items >= len(item_ids)) | (item_ids[items.clip(max=len(item_ids) - 1)] != ordered[S.ITEM_ID].to_numpy())
    if unknown.any():
        raise UnknownItemError(int(ordered[S.ITEM_ID].to_numpy()[unknown][0]), dataset.name)
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
