"""``pagegen bench``: measure the speed targets."""

from __future__ import annotations

import argparse
from typing import Any

from pagegen import data
from pagegen.cli.arguments import Commands, emit, json_flag, positive_int


def add_commands(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="measure the speed targets and print JSON")
    bench.add_argument(
        "--suite",
        choices=["data", "generators", "pages", "titles", "app", "all"],
        default="all",
        help="which stage to measure",
    )
    bench.add_argument("--dataset", default=data.DEFAULT_DATASET, help="dataset for the generator suite")
    bench.add_argument("--synth-users", type=positive_int, default=1_000_000)
    bench.add_argument("--synth-items", type=positive_int, default=50_000)
    bench.add_argument("--synth-interactions", type=positive_int, default=20_000_000)
    json_flag(bench)
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from pagegen import bench

    data_dir = data.resolve_data_dir(args.data_dir)
    payload: dict[str, Any] = {}
    lines = []
    if args.suite in ("data", "all"):
        fetch = payload["fetch"] = bench.bench_fetch(data_dir)
        synth = payload["synth"] = bench.bench_synth(
            users=args.synth_users, items=args.synth_items, interactions=args.synth_interactions
        )
        lines.append(f"fetch {fetch['dataset']} from {fetch['source']}: {fetch['seconds']:.2f} s (target ≤ 10 s)")
        lines.append(
            f"synth {synth['interactions']} interactions: {synth['seconds']:.1f} s (target ≤ 60 s), "
            f"peak {synth['peak_memory_gib']:.2f} GiB (target ≤ 4 GiB)"
        )
    if args.suite in ("generators", "all"):
        generators = payload["generators"] = bench.bench_generators(data_dir, args.dataset)
        fits = ", ".join(f"{name} {fit.get('fit_seconds', 0):.2f} s" for name, fit in generators["fit"].items())
        latency = generators["score_one_user_ms"]
        lines.append(f"fit on {args.dataset}: {fits}")
        lines.append(
            f"score one user with all generators: median {latency['median']} ms, p95 {latency['p95']} ms (target ≤ 20 ms)"
        )
    if args.suite in ("pages", "all"):
        pages = payload["pages"] = bench.bench_pages(data_dir, args.dataset)
        spread = pages["build_and_solve_ms"]
        lines.append(
            f"page build+solve ({pages['layout']}, {pages['users']} users): median {spread['median']} ms "
            f"(target ≤ 20), p95 {spread['p95']} ms (target ≤ 50); proven within 0.5 % on "
            f"{pages['proven_share']:.1%} (target ≥ 99 %), {pages['proven_by_decomposition']} by the decomposition; "
            f"{pages['pages_with_relaxations']} pages relax a rule; statuses {pages['statuses']}"
        )
        lines.append(
            f"ILP − greedy objective: min {pages['ilp_minus_greedy_objective']['min']}, "
            f"mean {pages['ilp_minus_greedy_objective']['mean']}; pages for all {pages['all_users']} users "
            f"{pages['all_users_seconds']} s on 2 workers (target ≤ 30 s); hit {pages['all_users_hit']['ilp_page']} "
            f"(top picks alone, as many items: {pages['all_users_hit']['top_picks_alone']})"
        )
    if args.suite in ("titles", "all"):
        titles = payload["titles"] = bench.bench_titles(data_dir, args.dataset)
        lines.append(
            f"titles by {titles['backend']}: second start {titles['second_start_seconds']} s (target ≤ 10 s); "
            f"page median {titles['page_titles_ms']['median']} ms, p95 {titles['page_titles_ms']['p95']} ms "
            f"(target ≤ 2000 ms); cached p95 {titles['cached_page_titles_ms']['p95']} ms (target ≤ 5 ms); "
            f"sources {titles['title_sources']}"
        )
    if args.suite in ("app", "all"):
        app = payload["app"] = bench.bench_app(data_dir, args.dataset)
        lines.append(
            f"dashboard (AppTest): first page after start {app['first_page_seconds']} s (target ≤ 15 s); "
            f"slider to a new value median {app['slider_to_new_value_ms']['median']} ms; rerun after a slider "
            f"move, warm: median {app['slider_rerun_warm_ms']['median']} ms, p95 {app['slider_rerun_warm_ms']['p95']} ms "
            f"(target ≤ 300 ms)"
        )
    return emit(args, payload, "\n".join(lines))
