"""``pagegen data``: list, fetch, describe, synthesize and split datasets."""

from __future__ import annotations

import argparse
import resource
import time

from pagegen import data
from pagegen.cli.arguments import (
    Commands,
    emit,
    json_flag,
    non_negative_int,
    positive_float,
    positive_int,
    progress,
    progress_flag,
)
from pagegen.data import schema as S
from pagegen.errors import PagegenError


def add_commands(commands: Commands) -> None:
    data_parser = commands.add_parser("data", help="fetch, synthesize, describe and split datasets")
    data_commands = data_parser.add_subparsers(title="data commands", metavar="ACTION", required=True)

    listing = data_commands.add_parser("list", help="the datasets pagegen knows and which are prepared")
    json_flag(listing)
    listing.set_defaults(handler=_list)

    fetch = data_commands.add_parser("fetch", help="download, verify and normalize a MovieLens release")
    fetch.add_argument("--dataset", default=data.DEFAULT_DATASET, help="one of: " + ", ".join(data.DATASETS))
    fetch.add_argument("--force", action="store_true", help="prepare again even if already prepared")
    fetch.add_argument("--timeout", type=positive_float, default=5.0, help="seconds to wait for GroupLens (default 5)")
    progress_flag(fetch, "a download bar")
    json_flag(fetch)
    fetch.set_defaults(handler=_fetch)

    info = data_commands.add_parser("info", help="users, items, interactions, density, dates, genres")
    info.add_argument("--dataset", default=data.DEFAULT_DATASET)
    json_flag(info)
    info.set_defaults(handler=_info)

    synth = data_commands.add_parser("synth", help="generate a synthetic dataset in the same schema")
    synth.add_argument("--users", type=positive_int, default=10_000)
    synth.add_argument("--items", type=positive_int, default=5_000)
    synth.add_argument("--interactions", type=positive_int, default=500_000)
    synth.add_argument("--seed", type=non_negative_int, default=0)
    synth.add_argument("--name", default="synth", help="dataset name to write (default: synth); not a MovieLens name")
    json_flag(synth)
    synth.set_defaults(handler=_synth)

    split = data_commands.add_parser("split", help="sizes of the leave-last-out and cold-start splits")
    split.add_argument("--dataset", default=data.DEFAULT_DATASET)
    split.add_argument("--cold-fraction", type=float, default=0.1, help="share of newest items held out")
    json_flag(split)
    split.set_defaults(handler=_split)


def _list(args: argparse.Namespace) -> int:
    prepared = set(data.prepared_datasets(data.resolve_data_dir(args.data_dir)))
    rows = [
        {
            "name": spec.name,
            "description": spec.description,
            "download": spec.download_size,
            "prepared": spec.name in prepared,
        }
        for spec in data.DATASETS.values()
    ]
    rows += [
        {"name": name, "description": "prepared locally", "download": "", "prepared": True}
        for name in sorted(prepared - set(data.DATASETS))
    ]
    text = "\n".join(f"{'*' if r['prepared'] else ' '} {r['name']:<16} {r['description']}" for r in rows)
    return emit(args, {"datasets": rows}, text + "\n(* = prepared)")


def _fetch(args: argparse.Namespace) -> int:
    report = data.fetch_dataset(
        args.dataset,
        data.resolve_data_dir(args.data_dir),
        force=args.force,
        timeout=args.timeout,
        progress=progress(args),
    )
    if report.skipped:
        text = f"{report.dataset} is already prepared in {report.path} (use --force to prepare it again)"
    else:
        text = (
            f"{report.dataset}: {report.interactions} interactions, {report.users} users, {report.items} items "
            f"from {report.source} → {report.path} in {report.seconds:.1f} s"
        )
    return emit(args, vars(report), text)


def _info(args: argparse.Namespace) -> int:
    info = data.describe(data.load_dataset(args.dataset, data.resolve_data_dir(args.data_dir)))
    genres = ", ".join(f"{name} {count}" for name, count in info.genres.items())
    text = (
        f"{info.dataset} (source: {info.source}, fingerprint {info.fingerprint})\n"
        f"  users {info.users}, items {info.items}, interactions {info.interactions}, density {info.density:.4%}\n"
        f"  from {info.first_interaction} to {info.last_interaction}, ratings {info.rating_min:g}–{info.rating_max:g}\n"
        f"  interactions per user: min {info.interactions_per_user['min']:g}, "
        f"median {info.interactions_per_user['median']:g}, max {info.interactions_per_user['max']:g}\n"
        f"  {len(info.genres)} genres (items): {genres}"
    )
    return emit(args, info.to_dict(), text)


def _synth(args: argparse.Namespace) -> int:
    if args.name in data.DATASETS:
        raise PagegenError(f"--name {args.name} is a MovieLens release; give synthetic data another name")
    data.store.check_dataset_name(args.name)
    started = time.perf_counter()
    config = data.SynthConfig(users=args.users, items=args.items, interactions=args.interactions, seed=args.seed)
    tables = data.synthesize(config)
    source = f"synthetic (users={config.users}, items={config.items}, interactions={config.interactions}, seed={config.seed})"
    path = data.write_dataset(data.resolve_data_dir(args.data_dir), args.name, tables, source=source)
    seconds = round(time.perf_counter() - started, 2)
    peak_gib = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)  # ru_maxrss is KiB on Linux
    interactions = tables["interactions"]
    assert interactions is not None
    payload = {
        "dataset": args.name,
        "path": str(path),
        "users": interactions[S.USER_ID].n_unique(),
        "items": config.items,
        "interactions": interactions.height,
        "seed": config.seed,
        "seconds": seconds,
        "peak_memory_gib": peak_gib,
    }
    text = (
        f"{args.name}: {payload['interactions']} interactions, {payload['users']} users, {payload['items']} items "
        f"→ {path} in {seconds:.1f} s, peak memory {peak_gib:.2f} GiB"
    )
    return emit(args, payload, text)


def _split(args: argparse.Namespace) -> int:
    dataset = data.load_dataset(args.dataset, data.resolve_data_dir(args.data_dir))
    loo = data.leave_last_out(dataset.interactions)
    cold = data.cold_start(dataset.interactions, fraction=args.cold_fraction)
    payload = {
        "dataset": dataset.name,
        "leave_last_out": {
            "train": loo.train.height,
            "validation": loo.validation.height,
            "test": loo.test.height,
            "users_evaluated": loo.test[S.USER_ID].n_unique(),
        },
        "cold_start": {
            "fraction": args.cold_fraction,
            "cold_items": cold.cold_items.len(),
            "train": cold.train.height,
            "test": cold.test.height,
            "test_users": cold.test[S.USER_ID].n_unique(),
        },
    }
    loo_counts, cold_counts = payload["leave_last_out"], payload["cold_start"]
    text = (
        f"{dataset.name} leave-last-out: train {loo_counts['train']}, validation {loo_counts['validation']}, test {loo_counts['test']} "
        f"({loo_counts['users_evaluated']} users)\n"
        f"{dataset.name} cold start ({args.cold_fraction:.0%} newest items = {cold_counts['cold_items']}): "
        f"train {cold_counts['train']}, test {cold_counts['test']} ({cold_counts['test_users']} users)"
    )
    return emit(args, payload, text)
