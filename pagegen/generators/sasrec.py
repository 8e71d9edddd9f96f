"""SASRec (Kang & McAuley 2018): causal self-attention over a user's last ``max_len`` items.

Trained on whole sequences — every position predicts its next item in one forward pass — with
full-softmax cross entropy (or gBCE over sampled negatives for large catalogues), and stopped early
on validation NDCG@10. Sequences are right-padded so no real position ever attends to padding.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from pagegen.errors import ConfigError, ModelFitError
from pagegen.generators.base import Generator, Validation, require
from pagegen.generators.training import TrainingData
from pagegen.ranking import validation_ndcg
from pagegen.seeding import as_generator

PAD = 0  # item index 0 is padding; catalogue item j is token j + 1


class SASRecNetwork(nn.Module):
    def __init__(self, n_items: int, *, max_len: int, hidden: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=PAD)
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.dropout = nn.Dropout(dropout)
        block = nn.TransformerEncoderLayer(
            hidden,
            heads,
            dim_feedforward=4 * hidden,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)
        self.register_buffer(
            "causal", torch.triu(torch.full((max_len, max_len), float("-inf")), diagonal=1), persistent=False
        )
        nn.init.normal_(self.item_embedding.weight, std=0.02)
        nn.init.normal_(self.position_embedding.weight, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Hidden state per position, (batch, length, hidden)."""
        length = tokens.shape[1]
        positions = torch.arange(length, device=tokens.device)
        x = self.item_embedding(tokens) * math.sqrt(self.item_embedding.embedding_dim) + self.position_embedding(
            positions
        )
        x = self.encoder(self.dropout(x), mask=self.causal[:length, :length], is_causal=True)
        return self.norm(x)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores over catalogue items (padding excluded), tied to the item embeddings."""
        return hidden @ self.item_embedding.weight[1:].T


FULL_SOFTMAX_ITEMS = 5_000  # "auto" trains with the full softmax up to this catalogue size, gBCE above


def _loss_for(asked: str, n_items: int) -> str:
    if asked != "auto":
        return asked
    return "ce" if n_items <= FULL_SOFTMAX_ITEMS else "gbce"


class SASRec(Generator):
    name: ClassVar[str] = "sasrec"
    defaults: ClassVar[dict[str, Any]] = {
        "max_len": 50,
        "hidden": 64,
        "layers": 2,
        "heads": 2,
        "dropout": 0.3,
        "learning_rate": 5e-3,
        "weight_decay": 0.0,
        "batch_size": 128,
        "max_epochs": 200,
        "patience": 8,
        "max_seconds": 300.0,
        "loss": "auto",  # "ce": full softmax; "gbce": sampled negatives (Petrov & Macdonald 2023); "auto": see below
        "max_validation_users": 10_000,  # users scored after each epoch, evenly spread (all on smaller data)
        "negatives": 256,
        "gbce_t": 0.75,
        "device": "cpu",
        "seed": 0,
    }
    uses_validation: ClassVar[bool] = True
    runtime_params: ClassVar[frozenset[str]] = frozenset({"device"})

    def _check_params(self) -> None:
        p = self.params
        require(
            p["loss"] in ("auto", "ce", "gbce"), self.name, f"loss must be 'auto', 'ce' or 'gbce', got {p['loss']!r}"
        )
        for key in (
            "max_len", "hidden", "layers", "heads", "batch_size", "max_epochs", "patience", "negatives",
            "max_validation_users",
        ):  # fmt: skip
            require(p[key] >= 1, self.name, f"{key} must be at least 1, got {p[key]}")
        require(
            p["hidden"] % p["heads"] == 0,
            self.name,
            f"hidden ({p['hidden']}) must be a multiple of heads ({p['heads']})",
        )
        require(0 <= p["dropout"] < 1, self.name, f"dropout must be in [0, 1), got {p['dropout']}")
        require(
            p["learning_rate"] > 0 and p["max_seconds"] > 0, self.name, "learning_rate and max_seconds must be positive"
        )
        require(
            p["device"] == "cpu" or p["device"].startswith("cuda"),
            self.name,
            f"device must be cpu or cuda[:N], got {p['device']!r}",
        )

    def _fit(self, data: TrainingData, validation: Validation | None, progress: bool) -> None:
        p = self.params
        if p["device"].startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu")
        torch.manual_seed(p["seed"])
        rng = as_generator(p["seed"])
        device = torch.device(p["device"])
        self.network = self._build(data.n_items).to(device)
        optimizer = torch.optim.Adam(self.network.parameters(), lr=p["learning_rate"], weight_decay=p["weight_decay"])
        self.loss = _loss_for(p["loss"], data.n_items)
        if p["loss"] == "auto" and self.loss == "gbce":
            self.fit_note = (
                f"trained with sampled negatives (gBCE): a full softmax over {data.n_items} items "
                f"(more than {FULL_SOFTMAX_ITEMS}) costs too much a step"
            )
        if validation is not None:
            validation = validation.spread(p["max_validation_users"])
        inputs, targets = _training_windows(data.histories(), p["max_len"])
        if not len(inputs):
            raise ModelFitError("sasrec needs users with at least two training interactions")
        best_ndcg, best_state, stale = -1.0, None, 0
        self.history: list[dict[str, float]] = []
        started = time.perf_counter()
        with tqdm(total=p["max_epochs"], desc="sasrec epochs", unit="epoch", disable=not progress) as bar:
            for epoch in range(p["max_epochs"]):
                loss = self._epoch(inputs, targets, optimizer, rng, device, data.n_items)
                ndcg = self._validation_ndcg(validation) if validation is not None else float("nan")
                self.history.append({"epoch": epoch + 1, "loss": loss, "val_ndcg@10": ndcg})
                if validation is not None and ndcg > best_ndcg:
                    best_ndcg, stale = ndcg, 0
                    best_state = {k: v.detach().clone() for k, v in self.network.state_dict().items()}
                elif validation is not None:
                    stale += 1
                elapsed = time.perf_counter() - started
                bar.total = _epoch_bound(p["max_epochs"], p["max_seconds"], epoch + 1, elapsed)
                shown = {"loss": f"{loss:.3f}"}
                if validation is not None:
                    shown |= {
                        "val_ndcg": f"{ndcg:.4f}",
                        "best": f"{best_ndcg:.4f}",
                        "stale": f"{stale}/{p['patience']}",
                    }
                bar.set_postfix(shown)
                bar.update()
                if stale >= p["patience"] or elapsed > p["max_seconds"]:
                    break
        if best_state is not None:
            self.network.load_state_dict(best_state)
        self.network.eval()
        self.best_validation_ndcg = best_ndcg
        self.epochs_run = len(self.history)

    def _build(self, n_items: int) -> SASRecNetwork:
        p = self.params
        return SASRecNetwork(
            n_items,
            max_len=p["max_len"],
            hidden=p["hidden"],
            layers=p["layers"],
            heads=p["heads"],
            dropout=p["dropout"],
        )

    def _epoch(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        optimizer: torch.optim.Optimizer,
        rng: np.random.Generator,
        device: torch.device,
        n_items: int,
    ) -> float:
        self.network.train()
        order = rng.permutation(len(inputs))
        total, batches = 0.0, 0
        for start in range(0, len(order), self.params["batch_size"]):
            batch = order[start : start + self.params["batch_size"]]
            tokens = torch.from_numpy(inputs[batch]).to(device)
            labels = torch.from_numpy(targets[batch]).to(device)  # catalogue index, −1 at padding
            hidden = self.network(tokens)
            keep = labels >= 0
            if self.loss == "ce":
                loss = F.cross_entropy(self.network.logits(hidden[keep]), labels[keep])
            else:
                loss = self._gbce_loss(hidden[keep], labels[keep], rng, n_items)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach())
            batches += 1
        return total / max(batches, 1)

    def _gbce_loss(
        self, hidden: torch.Tensor, labels: torch.Tensor, rng: np.random.Generator, n_items: int
    ) -> torch.Tensor:
        """Generalised BCE: the positive's probability raised to β corrects for negative sampling."""
        negatives = torch.from_numpy(rng.integers(0, n_items, size=self.params["negatives"])).to(hidden.device)
        weights = self.network.item_embedding.weight[1:]
        positive = (hidden * weights[labels]).sum(-1)
        negative = hidden @ weights[negatives].T
        alpha = self.params["negatives"] / max(n_items - 1, 1)
        beta = alpha * (self.params["gbce_t"] * (1 - 1 / alpha) + 1 / alpha)
        positive_term = -beta * F.logsigmoid(positive)  # −log σ(s)^β
        negative_term = -F.logsigmoid(-negative).sum(-1)
        return (positive_term + negative_term).mean()

    def _validation_ndcg(self, validation: Validation) -> float:
        return validation_ndcg(self._score(validation.histories), validation.histories, validation.targets)

    @torch.no_grad()
    def _score(self, histories: list[np.ndarray]) -> np.ndarray:
        self.network.eval()
        device = next(self.network.parameters()).device
        n_items = self.network.item_embedding.num_embeddings - 1
        tokens, last = _inference_tokens(histories, self.params["max_len"])
        out = np.empty((len(histories), n_items), dtype=np.float32)
        for start in range(0, len(histories), 1024):
            chunk = torch.from_numpy(tokens[start : start + 1024]).to(device)
            hidden = self.network(chunk)
            final = hidden[torch.arange(len(chunk)), torch.from_numpy(last[start : start + 1024]).to(device)]
            out[start : start + len(chunk)] = self.network.logits(final).float().cpu().numpy()
        empty = np.array([len(h) == 0 for h in histories])
        out[empty] = 0.0  # no history, no sequence signal: leave these users to popularity or content
        return out

    def _state(self) -> dict[str, np.ndarray]:
        return {key: value.detach().cpu().numpy() for key, value in self.network.state_dict().items()}

    def _restore(self, state: dict[str, np.ndarray], data: TrainingData) -> None:
        self.network = self._build(data.n_items)
        self.network.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in state.items()})
        self.network.eval()


def _epoch_bound(max_epochs: int, max_seconds: float, done: int, elapsed: float) -> int:
    """The epochs training can reach within ``max_seconds`` at its pace so far: the bar's total, so that
    tqdm's ETA is the time cap's bound (early stopping ends sooner), not the time ``max_epochs`` would take."""
    left = max(max_seconds - elapsed, 0.0)
    return min(max_epochs, done + math.ceil(left * done / max(elapsed, 1e-9)))


def _training_windows(histories: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-padded (input, next-item) windows covering every training transition exactly once.

    A sequence longer than ``max_len + 1`` is cut into consecutive windows from its end, so the
    most recent items always sit in a full-length window.
    """
    inputs, targets = [], []
    for history in histories:
        tokens = history.astype(np.int64)
        end = len(tokens)
        while end >= 2:
            start = max(0, end - max_len - 1)
            window = tokens[start:end]
            row_in = np.full(max_len, PAD, dtype=np.int64)
            row_out = np.full(max_len, -1, dtype=np.int64)
            row_in[: len(window) - 1] = window[:-1] + 1
            row_out[: len(window) - 1] = window[1:]
            inputs.append(row_in)
            targets.append(row_out)
            end = start + 1
    if not inputs:
        return np.zeros((0, max_len), dtype=np.int64), np.zeros((0, max_len), dtype=np.int64)
    return np.stack(inputs), np.stack(targets)


def _inference_tokens(histories: list[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``max_len`` items of each history, right-padded, and the position of the last real one."""
    tokens = np.full((len(histories), max_len), PAD, dtype=np.int64)
    last = np.zeros(len(histories), dtype=np.int64)
    for row, history in enumerate(histories):
        recent = history[-max_len:]
        tokens[row, : len(recent)] = recent + 1
        last[row] = max(len(recent) - 1, 0)
    return tokens, last
