"""``pagegen bench``: measure the speed and quality targets."""

from __future__ import annotations

import argparse

from pagegen import data
from pagegen.cli.arguments import Commands, emit, json_flag, positive_int, progress, progress_flag
from pagegen.vocabulary import BACKENDS, BENCH_SUITES, BENCH_TITLE_USERS


def add_commands(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="measure the speed and quality targets (JSON with --json)")
    bench.add_argument("--suite", choices=[*BENCH_SUITES, "all"], default="all", help="which stage to measure")
    bench.add_argument("--dataset", default=data.DEFAULT_DATASET, help="dataset for every suite but data")
    bench.add_argument("--synth-users", type=positive_int, default=1_000_000)
    bench.add_argument("--synth-items", type=positive_int, default=50_000)
    bench.add_argument("--synth-interactions", type=positive_int, default=20_000_000)
    bench.add_argument("--title-users", type=positive_int, default=BENCH_TITLE_USERS, help="pages titled")
    bench.add_argument("--title-backend", choices=BACKENDS, default="embedded", help="what the titles suite measures")
    progress_flag(bench)
    json_flag(bench)
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from pagegen.bench import format_bench, run_bench  # the benchmarks stay out of every other command's imports

    report = run_bench(
        BENCH_SUITES if args.suite == "all" else (args.suite,),
        data.resolve_data_dir(args.data_dir),
        args.dataset,
        synth_users=args.synth_users,
        synth_items=args.synth_items,
        synth_interactions=args.synth_interactions,
        title_users=args.title_users,
        title_backend=args.title_backend,
        progress=progress(args),
    )
    return emit(args, report.to_dict(), format_bench(report))
