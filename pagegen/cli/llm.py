"""``pagegen llm``: prepare the embedded language model, describe the catalogue's items."""

from __future__ import annotations

import argparse
import dataclasses
import time

from pagegen import data
from pagegen.cli.arguments import Commands, backend_argument, emit, json_flag, positive_int, progress, progress_flag


def add_commands(commands: Commands) -> None:
    llm = commands.add_parser("llm", help="the language model: prepare the embedded model, describe items")
    llm_commands = llm.add_subparsers(title="llm commands", metavar="ACTION", required=True)
    prepare = llm_commands.add_parser("prepare", help="fetch and convert the embedded model (once, about 20 s)")
    json_flag(prepare)
    prepare.set_defaults(handler=_prepare)
    describe = llm_commands.add_parser("describe", help="a short description per item, stored and resumable")
    describe.add_argument("--dataset", default=data.DEFAULT_DATASET)
    describe.add_argument("--limit", type=positive_int, help="describe at most N more items")
    backend_argument(describe, default="embedded")
    progress_flag(describe, "a progress bar over the items")
    json_flag(describe)
    describe.set_defaults(handler=_describe)


def _describe(args: argparse.Namespace) -> int:
    from pagegen.llm.descriptions import describe_items
    from pagegen.llm.registry import make_backend

    data_dir = data.resolve_data_dir(args.data_dir)
    dataset = data.load_dataset(args.dataset, data_dir)
    backend = make_backend(args.backend, data_dir=data_dir)
    backend.warm()
    report = describe_items(data_dir, dataset.name, dataset.items, backend, limit=args.limit, progress=progress(args))
    text = (
        f"{report.described} items described by {report.backend} ({report.refused} answers refused), "
        f"{report.already} done before, {report.remaining} left ({report.seconds} s)"
    )
    return emit(args, dataclasses.asdict(report), text)


def _prepare(args: argparse.Namespace) -> int:
    from pagegen.llm.embedded import SMOLLM2, prepare_embedded

    started = time.perf_counter()
    converted = prepare_embedded(data.resolve_data_dir(args.data_dir))
    payload = {"model": SMOLLM2.name, "path": str(converted), "seconds": round(time.perf_counter() - started, 1)}
    return emit(args, payload, f"{SMOLLM2.name} ready in {converted} ({payload['seconds']} s)")
