#!/usr/bin/env python
"""Peer comparison: RecBole 1.2.1's EASE and SASRec on MovieLens 100K under pagegen's protocol.

Runs inside its own virtual environment (see bench/README.md) and never imports pagegen.

Protocol (pagegen's leave-last-out): each user's interactions ordered by timestamp (equal timestamps
keep file order); the last is test, the one before validation, the rest train; full ranking over all
1682 items, the user's training items (for test also the validation item) excluded; Recall@10/20,
NDCG@10/20 and MRR@10 averaged over all 943 users; all 100 000 interactions, no filtering.

Two places where RecBole, left alone, departs from that protocol, and what this script does:

* RecBole stores the timestamp column as float32 (after min-max normalisation, which ml-100k's own
  RecBole config switches on). float32 cannot tell some neighbouring seconds apart, so a handful of
  users get their last two interactions in a different order. With ``--time-order exact`` (default)
  the script replaces the loaded timestamps by their dense rank before the split — same order, same
  ties, but exact in float32. ``--time-order recbole`` keeps RecBole's behaviour. Either way the JSON
  holds a check of RecBole's split against one computed here from the raw file.
* RecBole does not exclude already-seen items when it ranks for sequential models (SASRec), and its
  ml-100k config sets ``repeatable: True``, which also switches the exclusion off for general models.
  The script sets ``repeatable: False`` for EASE (RecBole then excludes train, and for test also
  validation, items itself) and masks the same items for SASRec in a Trainer subclass; early stopping
  for SASRec uses that masked validation NDCG@10. RecBole's own unmasked SASRec numbers are reported
  too (``recbole_native_unmasked``).

Prints one JSON object on stdout (logs go to stderr) and writes it to ``--out`` when given.
"""

from __future__ import annotations

import os

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole 1.2.1 checkpoints need it on torch >= 2.6

import argparse
import contextlib
import datetime as _dt
import json
import platform
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd
import recbole
import scipy
import scipy.sparse as sp
import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_model, get_trainer, init_logger, init_seed

DATASET = "ml-100k"
METRICS = ["Recall", "NDCG", "MRR"]
TOPK = [10, 20]
REPORTED = ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "mrr@10"]  # RecBole's result keys
VALID_METRIC = "NDCG@10"
EASE_DEFAULT_GRID = [50.0, 100.0, 250.0, 500.0, 1000.0]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=["EASE", "SASRec"], choices=["EASE", "SASRec"])
    p.add_argument(
        "--epochs", type=int, default=None, help="SASRec epoch cap (default: RecBole's, 300, with early stopping)"
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="SASRec wall-clock cap for fit: no new epoch is started when it would end past the cap",
    )
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--seed", type=int, default=2020, help="RecBole's default seed is 2020")
    p.add_argument("--ease-grid", type=float, nargs="+", default=EASE_DEFAULT_GRID, help="EASE reg_weight values")
    p.add_argument(
        "--time-order",
        choices=["exact", "recbole"],
        default="exact",
        help="exact: dense-rank timestamps so float32 keeps their order (pagegen's split); recbole: RecBole as is",
    )
    p.add_argument("--out", default=None, help="also write the JSON here")
    p.add_argument(
        "--workdir", default=None, help="where RecBole writes checkpoints/logs (default: a temp dir, removed)"
    )
    p.add_argument("--verbose", action="store_true", help="RecBole INFO logging on stderr")
    return p.parse_args(argv)


def log(msg: str) -> None:
    print(f"[recbole_peer {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- config


def build_config(model: str, args: argparse.Namespace, workdir: str, extra: dict[str, Any]) -> Config:
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit("--device cuda but torch.cuda.is_available() is False")
    config_dict: dict[str, Any] = {
        "data_path": os.path.join(os.path.dirname(recbole.__file__), "dataset_example"),
        "load_col": {"inter": ["user_id", "item_id", "rating", "timestamp"]},
        "user_inter_num_interval": "[0,inf)",
        "item_inter_num_interval": "[0,inf)",
        "val_interval": None,
        "threshold": None,
        "eval_args": {"split": {"LS": "valid_and_test"}, "order": "TO", "mode": "full", "group_by": "user"},
        "metrics": METRICS,
        "topk": TOPK,
        "valid_metric": VALID_METRIC,
        "metric_decimal_place": 6,
        "seed": args.seed,
        "reproducibility": True,
        "use_gpu": cuda,
        "gpu_id": "0" if cuda else "",
        "checkpoint_dir": os.path.join(workdir, "saved"),
        "show_progress": False,
        "state": "INFO" if args.verbose else "WARNING",
        "save_dataset": False,
        "save_dataloaders": False,
    }
    config_dict.update(extra)
    saved_argv = sys.argv
    sys.argv = sys.argv[:1]  # RecBole's Config also parses --key=value from sys.argv; keep ours out of it
    try:
        config = Config(model=model, dataset=DATASET, config_dict=config_dict)
    finally:
        sys.argv = saved_argv
    return config


def config_summary(config: Config, keys: list[str]) -> dict[str, Any]:
    out = {}
    for k in keys:
        v = config[k]
        out[k] = v if isinstance(v, (int, float, str, bool, list, dict, type(None))) else str(v)
    return json.loads(json.dumps(out, default=str))


COMMON_KEYS = [
    "data_path", "load_col", "user_inter_num_interval", "item_inter_num_interval", "val_interval",
    "threshold", "normalize_all", "rm_dup_inter", "eval_args", "metrics", "topk", "valid_metric",
    "repeatable", "seed", "reproducibility", "device", "eval_batch_size",
]  # fmt: skip
SASREC_KEYS = [
    *COMMON_KEYS, "epochs", "stopping_step", "eval_step", "train_batch_size", "learning_rate", "learner",
    "weight_decay", "train_neg_sample_args", "loss_type", "MAX_ITEM_LIST_LENGTH", "n_layers", "n_heads",
    "hidden_size", "inner_size", "hidden_dropout_prob", "attn_dropout_prob", "hidden_act", "layer_norm_eps",
    "initializer_range",
]  # fmt: skip


# ------------------------------------------------------------------------------ data and split


def reference_split(dataset) -> dict[str, Any]:
    """The protocol's split computed from the raw atomic file (integer timestamps, stable sort)."""
    path = os.path.join(dataset.dataset_path, f"{DATASET}.inter")
    raw = pd.read_csv(path, sep="\t", dtype=str)
    raw.columns = [c.split(":")[0] for c in raw.columns]
    raw["timestamp"] = raw["timestamp"].astype(np.int64)
    raw = raw.iloc[np.argsort(raw["timestamp"].to_numpy(), kind="stable")]
    uid = dataset.token2id(dataset.uid_field, raw["user_id"].to_numpy())
    iid = dataset.token2id(dataset.iid_field, raw["item_id"].to_numpy())
    valid, test, n_train = {}, {}, 0
    order = np.argsort(uid, kind="stable")  # keeps time order inside each user
    uid, iid = uid[order], iid[order]
    bounds = np.flatnonzero(np.diff(uid)) + 1
    for u_items, u in zip(np.split(iid, bounds), uid[np.r_[0, bounds]], strict=True):
        test[int(u)] = int(u_items[-1])
        valid[int(u)] = int(u_items[-2])
        n_train += len(u_items) - 2
    return {"valid": valid, "test": test, "n_train": n_train, "n_raw": len(raw)}


def fix_time_order(dataset) -> None:
    """Replace the (normalised, float64) timestamps by their dense rank: same order and ties, and
    small integers, so RecBole's float32 tensor keeps every distinction."""
    tf = dataset.time_field
    dataset.inter_feat[tf] = dataset.inter_feat[tf].rank(method="dense").astype(np.float64)


def float32_order_loss(dataset) -> int:
    ts = dataset.inter_feat[dataset.time_field].to_numpy()
    return int(len(np.unique(ts)) - len(np.unique(ts.astype(np.float32))))


def held_out_items(loader) -> dict[int, int]:
    ds = loader._dataset
    users = ds.inter_feat[ds.uid_field].numpy()
    items = ds.inter_feat[ds.iid_field].numpy()
    out: dict[int, int] = {}
    for u, i in zip(users, items, strict=True):
        if int(u) in out:
            raise RuntimeError(f"user {u} has more than one held-out item")
        out[int(u)] = int(i)
    return out


def check_split(
    ref: dict[str, Any], train_data, valid_data, test_data, sequential: bool, n_users: int
) -> dict[str, Any]:
    valid, test = held_out_items(valid_data), held_out_items(test_data)
    n_train_rows = len(train_data._dataset.inter_feat)
    return {
        "users_evaluated_valid": len(valid),
        "users_evaluated_test": len(test),
        "train_rows": n_train_rows,
        "train_rows_meaning": "training (prefix -> next item) samples; each user's first item is never a target"
        if sequential
        else "training interactions",
        "expected_train_interactions": ref["n_train"],
        "valid_item_differs_from_reference": sum(valid.get(u) != i for u, i in ref["valid"].items()),
        "test_item_differs_from_reference": sum(test.get(u) != i for u, i in ref["test"].items()),
        "reference": "leave-last-out recomputed here from the raw ml-100k.inter (int timestamps, stable sort)",
        "matches_reference": valid == ref["valid"]
        and test == ref["test"]
        and n_train_rows == (ref["n_train"] - n_users if sequential else ref["n_train"]),
    }


def history_matrices(
    all_user_items: tuple[np.ndarray, np.ndarray],
    valid: dict[int, int],
    test: dict[int, int],
    n_users: int,
    n_items: int,
):
    """CSR user x item masks: for validation the train items, for test train + validation items,
    following the split RecBole built (ml-100k has no repeated user-item pairs)."""
    users, items = all_user_items
    held_valid = np.array(
        [valid.get(int(u), -1) == i or test.get(int(u), -1) == i for u, i in zip(users, items, strict=True)]
    )
    held_test = np.array([test.get(int(u), -1) == i for u, i in zip(users, items, strict=True)])

    def csr(keep):
        return sp.csr_matrix(
            (np.ones(int(keep.sum()), dtype=np.float32), (users[keep], items[keep])), shape=(n_users, n_items)
        )

    return csr(~held_valid), csr(~held_test)


# ---------------------------------------------------------------------------------- trainer


class _TimeCap(Exception):
    pass


class PeerMixin:
    """Timing, an optional wall-clock cap, the best epoch, and (for sequential models) exclusion of
    each user's seen items from the ranking."""

    def peer_init(self, max_seconds: float | None) -> None:
        self.peer_max_seconds = max_seconds
        self.peer_train_seconds: list[float] = []
        self.peer_valid_seconds: list[float] = []
        self.peer_valid_trajectory: list[float] = []
        self.peer_fit_started = None
        self.peer_best_epoch = None
        self.peer_mask = True
        self.peer_hist = None
        self.peer_time_capped = False

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        if self.peer_fit_started is None:
            self.peer_fit_started = time.perf_counter()
        done = len(self.peer_train_seconds)
        if self.peer_max_seconds is not None and done:
            elapsed = time.perf_counter() - self.peer_fit_started
            if elapsed + elapsed / done > self.peer_max_seconds:
                self.peer_time_capped = True
                raise _TimeCap
        t = time.perf_counter()
        loss = super()._train_epoch(train_data, epoch_idx, loss_func=loss_func, show_progress=show_progress)
        self.peer_train_seconds.append(time.perf_counter() - t)
        return loss

    def _valid_epoch(self, valid_data, show_progress=False):
        t = time.perf_counter()
        score, result = super()._valid_epoch(valid_data, show_progress=show_progress)
        self.peer_valid_seconds.append(time.perf_counter() - t)
        self.peer_valid_trajectory.append(round(float(score), 6))
        log(
            f"{self.config['model']} epoch {len(self.peer_train_seconds) - 1}: train {self.peer_train_seconds[-1]:.1f}s, "
            f"valid {self.peer_valid_seconds[-1]:.1f}s, valid {self.valid_metric}={score:.4f}"
        )
        return score, result

    def _save_checkpoint(self, epoch, verbose=True, **kwargs):
        self.peer_best_epoch = epoch
        return super()._save_checkpoint(epoch, verbose=verbose, **kwargs)

    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        self.peer_hist = getattr(eval_data, "peer_history", None) if self.peer_mask else None
        return super().evaluate(
            eval_data, load_best_model=load_best_model, model_file=model_file, show_progress=show_progress
        )

    def _full_sort_batch_eval(self, batched_data):
        interaction, scores, positive_u, positive_i = super()._full_sort_batch_eval(batched_data)
        if self.peer_hist is not None:
            users = interaction[self.config["USER_ID_FIELD"]].cpu().numpy()
            rows = self.peer_hist[users].tocoo()
            scores[
                torch.from_numpy(rows.row).long().to(scores.device), torch.from_numpy(rows.col).long().to(scores.device)
            ] = -np.inf
        return interaction, scores, positive_u, positive_i


def make_trainer(config: Config, model, max_seconds: float | None = None):
    base = get_trainer(config["MODEL_TYPE"], config["model"])
    cls = type(f"Peer{base.__name__}", (PeerMixin, base), {})
    trainer = cls(config, model)
    trainer.peer_init(max_seconds)
    return trainer


def pick(result: dict[str, Any] | None) -> dict[str, float] | None:
    if result is None:
        return None
    return {k: round(float(result[k]), 6) for k in REPORTED}


# ---------------------------------------------------------------------------------- prepare


def prepare(model: str, args: argparse.Namespace, workdir: str, extra: dict[str, Any]):
    config = build_config(model, args, workdir, extra)
    if args.verbose:
        init_logger(config)
    init_seed(config["seed"], config["reproducibility"])
    t = time.perf_counter()
    dataset = create_dataset(config)
    ref = reference_split(dataset)
    lost_native = float32_order_loss(dataset)
    if args.time_order == "exact":
        fix_time_order(dataset)
    users = dataset.inter_feat[dataset.uid_field].to_numpy()
    items = dataset.inter_feat[dataset.iid_field].to_numpy()
    n_users, n_items, n_inter = dataset.user_num, dataset.item_num, len(dataset.inter_feat)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    prep_seconds = time.perf_counter() - t
    sequential = config["MODEL_TYPE"].name == "SEQUENTIAL"
    check = check_split(ref, train_data, valid_data, test_data, sequential, n_users - 1)
    check.update(
        {
            "users": n_users - 1,  # RecBole reserves id 0 for padding
            "items": n_items - 1,
            "interactions": n_inter,
            "time_order": args.time_order,
            "distinct_timestamps_float32_would_merge": lost_native,
        }
    )
    hv, ht = history_matrices((users, items), held_out_items(valid_data), held_out_items(test_data), n_users, n_items)
    return config, dataset, (train_data, valid_data, test_data), (hv, ht), check, prep_seconds


# ------------------------------------------------------------------------------------- EASE


def run_ease(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    config, _dataset, (train_data, valid_data, test_data), _hist, check, prep_seconds = prepare(
        "EASE", args, workdir, {"repeatable": False}
    )
    default_reg = float(config["reg_weight"])
    grid = sorted(set(float(r) for r in args.ease_grid) | {default_reg})
    runs = []
    for reg in grid:
        config["reg_weight"] = reg
        init_seed(config["seed"], config["reproducibility"])
        t0 = time.perf_counter()
        model = get_model("EASE")(config, train_data._dataset).to(config["device"])
        t1 = time.perf_counter()
        trainer = make_trainer(config, model)
        trainer.peer_mask = False  # RecBole excludes seen items itself for general models (repeatable False)
        trainer.fit(train_data, valid_data, saved=False, show_progress=False, verbose=args.verbose)
        fit_seconds = (t1 - t0) + sum(trainer.peer_train_seconds)
        valid = pick(trainer.best_valid_result)
        t2 = time.perf_counter()
        test = pick(trainer.evaluate(test_data, load_best_model=False))
        test_seconds = time.perf_counter() - t2
        runs.append(
            {
                "reg_weight": reg,
                "fit_seconds": round(fit_seconds, 3),
                "model_init_seconds": round(t1 - t0, 3),
                "valid_seconds": round(sum(trainer.peer_valid_seconds), 3),
                "test_seconds": round(test_seconds, 3),
                "valid": valid,
                "test": test,
            }
        )
        log(
            f"EASE reg_weight={reg:g}: fit {fit_seconds:.2f}s valid ndcg@10={valid['ndcg@10']:.4f} test ndcg@10={test['ndcg@10']:.4f}"
        )
    chosen = max(runs, key=lambda r: (r["valid"]["ndcg@10"], -abs(r["reg_weight"] - default_reg)))
    default = next(r for r in runs if r["reg_weight"] == default_reg)
    return {
        "model": "EASE",
        "trainer": "TraditionalTrainer (one pass; fit = closed-form item-item solve in the model's constructor)",
        "default_reg_weight": default_reg,
        "default": default,
        "grid": runs,
        "chosen_by": "valid ndcg@10",
        "chosen": chosen,
        "fit_seconds": default["fit_seconds"],
        "valid": default["valid"],
        "test": default["test"],
        "data_prep_seconds": round(prep_seconds, 3),
        "split_check": check,
        "config": config_summary(config, [*COMMON_KEYS, "reg_weight"]) | {"reg_weight": "see grid"},
    }


# ----------------------------------------------------------------------------------- SASRec


def run_sasrec(args: argparse.Namespace, workdir: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"train_neg_sample_args": None, "loss_type": "CE", "MAX_ITEM_LIST_LENGTH": 50}
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    config, _dataset, (train_data, valid_data, test_data), (hv, ht), check, prep_seconds = prepare(
        "SASRec", args, workdir, extra
    )
    valid_data.peer_history, test_data.peer_history = hv, ht
    init_seed(config["seed"], config["reproducibility"])
    model = get_model("SASRec")(config, train_data._dataset).to(config["device"])
    trainer = make_trainer(config, model, max_seconds=args.max_seconds)
    t = time.perf_counter()
    try:
        trainer.fit(train_data, valid_data, saved=True, show_progress=False, verbose=args.verbose)
    except _TimeCap:
        log(f"SASRec: time cap {args.max_seconds}s reached after {len(trainer.peer_train_seconds)} epochs")
    fit_wall = time.perf_counter() - t
    epochs_run = len(trainer.peer_train_seconds)
    early_stopped = trainer.cur_step >= trainer.stopping_step
    capped = not early_stopped
    if trainer.peer_time_capped:
        cap_reason = f"--max-seconds {args.max_seconds}"
    elif capped:
        cap_reason = f"epoch limit {config['epochs']}"
    else:
        cap_reason = None

    # best checkpoint, evaluated under the protocol (seen items masked) and as RecBole does it (unmasked)
    t2 = time.perf_counter()
    test = pick(trainer.evaluate(test_data, load_best_model=True))
    test_seconds = time.perf_counter() - t2
    valid = pick(trainer.evaluate(valid_data, load_best_model=False))
    trainer.peer_mask = False
    native = {
        "valid": pick(trainer.evaluate(valid_data, load_best_model=False)),
        "test": pick(trainer.evaluate(test_data, load_best_model=False)),
        "note": "RecBole's own full ranking for sequential models: already-seen items are NOT excluded",
    }
    n_params = sum(p.numel() for p in model.parameters())
    train_s = trainer.peer_train_seconds
    return {
        "model": "SASRec",
        "converged": not capped,
        "capped": capped,
        "cap_reason": cap_reason,
        "note": None
        if not capped
        else f"CAPPED after {epochs_run} epoch(s) ({cap_reason}); RecBole's default trains up to 300 epochs and stops early "
        f"after {config['stopping_step']} epochs without a valid {VALID_METRIC} gain. These are not converged numbers.",
        "epochs_run": epochs_run,
        "best_epoch": trainer.peer_best_epoch,
        "early_stopped": early_stopped,
        "fit_seconds": round(fit_wall, 3),
        "fit_seconds_meaning": "wall time of Trainer.fit: training epochs + per-epoch validation + checkpointing",
        "train_seconds_per_epoch": round(float(np.mean(train_s)), 3) if train_s else None,
        "train_seconds_each_epoch": [round(s, 3) for s in train_s],
        "valid_seconds_per_epoch": round(float(np.mean(trainer.peer_valid_seconds)), 3)
        if trainer.peer_valid_seconds
        else None,
        "valid_ndcg@10_each_epoch": trainer.peer_valid_trajectory,
        "train_samples_per_epoch": len(train_data._dataset.inter_feat),
        "batches_per_epoch": int(np.ceil(len(train_data._dataset.inter_feat) / config["train_batch_size"])),
        "test_seconds": round(test_seconds, 3),
        "parameters": n_params,
        "valid": valid,
        "test": test,
        "recbole_native_unmasked": native,
        "data_prep_seconds": round(prep_seconds, 3),
        "split_check": check,
        "config": config_summary(config, SASREC_KEYS),
    }


# ------------------------------------------------------------------------------------- main


def environment() -> dict[str, Any]:
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        cpu = None
    return {
        "python": platform.python_version(),
        "recbole": recbole.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_path = os.path.abspath(args.out) if args.out else None
    workdir = os.path.abspath(args.workdir) if args.workdir else tempfile.mkdtemp(prefix="recbole-peer-")
    os.makedirs(workdir, exist_ok=True)
    cwd = os.getcwd()
    os.chdir(workdir)  # RecBole writes log/, log_tensorboard/ and saved/ under the working directory
    started = time.perf_counter()
    report: dict[str, Any] = {
        "tool": "bench/recbole_peer.py",
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:] if argv is None else argv,
        "device": args.device,
        "environment": environment(),
        "protocol": {
            "split": "per-user temporal leave-last-out (eval_args split LS valid_and_test, order TO, group_by user)",
            "ranking": "full ranking over all items (mode full); train items excluded for validation, train+validation for test",
            "metrics": REPORTED,
            "valid_metric": VALID_METRIC.lower(),
            "filtering": "none: user/item_inter_num_interval [0,inf), no val_interval, no threshold",
            "time_order": args.time_order,
        },
        "models": {},
    }
    try:
        with contextlib.redirect_stdout(sys.stderr):
            for name in args.models:
                log(f"running {name}")
                report["models"][name] = run_ease(args, workdir) if name == "EASE" else run_sasrec(args, workdir)
    finally:
        os.chdir(cwd)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["environment"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(report, indent=2)
    if out_path:
        with open(out_path, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
