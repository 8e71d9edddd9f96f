"""The ``pagegen`` command line: every figure or structure it prints is also available as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pagegen import data
from pagegen.data import schema as S
from pagegen.errors import PagegenError
from pagegen.vocabulary import BACKENDS, DEFAULT_BACKEND, DEFAULT_OPTIMIZER, OPTIMIZERS

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `pagegen ... | head` ends quietly
    try:
        return args.handler(args)
    except PagegenError as error:
        print(f"pagegen: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pagegen: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGPIPE, previous)  # a caller in the same process (tests) keeps its own


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pagegen", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where datasets live (default: ${data.store.DATA_DIR_ENV} or ./data)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    data_parser = commands.add_parser("data", help="fetch, synthesize, describe and split datasets")
    data_commands = data_parser.add_subparsers(title="data commands", metavar="ACTION", required=True)

    listing = data_commands.add_parser("list", help="the datasets pagegen knows and which are prepared")
    _json_flag(listing)
    listing.set_defaults(handler=_data_list)

    fetch = data_commands.add_parser("fetch", help="download, verify and normalize a MovieLens release")
    fetch.add_argument("--dataset", default=data.DEFAULT_DATASET, help="one of: " + ", ".join(data.DATASETS))
    fetch.add_argument("--force", action="store_true", help="prepare again even if already prepared")
    fetch.add_argument("--timeout", type=_positive_float, default=5.0, help="seconds to wait for GroupLens (default 5)")
    _json_flag(fetch)
    fetch.set_defaults(handler=_data_fetch)

    info = data_commands.add_parser("info", help="users, items, interactions, density, dates, genres")
    info.add_argument("--dataset", default=data.DEFAULT_DATASET)
    _json_flag(info)
    info.set_defaults(handler=_data_info)

    synth = data_commands.add_parser("synth", help="generate a synthetic dataset in the same schema")
    synth.add_argument("--users", type=_positive_int, default=10_000)
    synth.add_argument("--items", type=_positive_int, default=5_000)
    synth.add_argument("--interactions", type=_positive_int, default=500_000)
    synth.add_argument("--seed", type=_non_negative_int, default=0)
    synth.add_argument("--name", default="synth", help="dataset name to write (default: synth); not a MovieLens name")
    _json_flag(synth)
    synth.set_defaults(handler=_data_synth)

    split = data_commands.add_parser("split", help="sizes of the leave-last-out and cold-start splits")
    split.add_argument("--dataset", default=data.DEFAULT_DATASET)
    split.add_argument("--cold-fraction", type=float, default=0.1, help="share of newest items held out")
    _json_flag(split)
    split.set_defaults(handler=_data_split)

    train = commands.add_parser("train", help="fit a generator on the leave-last-out train split and save it")
    _model_arguments(train)
    train.set_defaults(handler=_train)

    recommend = commands.add_parser("recommend", help="top items for a user (or for a new user's liked items)")
    _model_arguments(recommend)
    who = recommend.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, help="a user id of the dataset")
    who.add_argument("--like", type=_id_list, help="a new user's liked item ids, comma-separated (cold start)")
    who.add_argument(
        "--genres",
        type=lambda text: [g.strip() for g in text.split(",") if g.strip()],
        help="a new user's genres, comma-separated (content model)",
    )
    recommend.add_argument("--k", type=_positive_int, default=10)
    recommend.set_defaults(handler=_recommend)

    evaluate = commands.add_parser("evaluate", help="offline metrics with full ranking (leave-last-out or cold start)")
    _model_arguments(evaluate, allow_all=True)
    evaluate.add_argument("--cold-start", action="store_true", help="rank only the newest items, held out of training")
    evaluate.add_argument("--cold-fraction", type=float, default=0.1)
    evaluate.add_argument("--retrain", action="store_true", help="fit again even when a matching model is saved")
    evaluate.add_argument("--sample", type=_positive_int, default=50, help="users for --model llm-rerank")
    _backend_argument(evaluate, default=DEFAULT_BACKEND)
    evaluate.set_defaults(handler=_evaluate)

    page = commands.add_parser("page", help="a user's homepage: rows chosen and filled by the optimizer")
    page.add_argument("--dataset", default=data.DEFAULT_DATASET)
    page.add_argument("--user", type=int, help="a user id of the dataset (omit for a new user: a cold-start page)")
    _page_arguments(page)
    page.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULT_OPTIMIZER)
    page.add_argument("--timings", action="store_true", help="include build and solve seconds in the JSON")
    page.add_argument("--export-lp", type=Path, metavar="FILE", help="also write the page's ILP (PuLP's LP format)")
    _json_flag(page)
    page.set_defaults(handler=_page)

    titles = commands.add_parser("titles", help="a user's page titles from the language model (or the template)")
    titles.add_argument("--dataset", default=data.DEFAULT_DATASET)
    titles.add_argument("--user", type=int, help="a user id of the dataset (omit for a new user)")
    _page_arguments(titles)
    _json_flag(titles)
    titles.set_defaults(handler=_titles, optimizer=DEFAULT_OPTIMIZER, timings=False)

    llm = commands.add_parser("llm", help="the language model: prepare the embedded model, describe items")
    llm_commands = llm.add_subparsers(title="llm commands", metavar="ACTION", required=True)
    prepare = llm_commands.add_parser("prepare", help="fetch and convert the embedded model (once, about 20 s)")
    _json_flag(prepare)
    prepare.set_defaults(handler=_llm_prepare)
    describe = llm_commands.add_parser("describe", help="a short description per item, stored and resumable")
    describe.add_argument("--dataset", default=data.DEFAULT_DATASET)
    describe.add_argument("--limit", type=_positive_int, help="describe at most N more items")
    _backend_argument(describe, default="embedded")
    describe.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)"
    )
    _json_flag(describe)
    describe.set_defaults(handler=_llm_describe)

    evaluate_pages = commands.add_parser("evaluate-pages", help="page metrics for every user: ILP vs greedy vs MMR")
    evaluate_pages.add_argument("--dataset", default=data.DEFAULT_DATASET)
    _page_arguments(evaluate_pages)
    evaluate_pages.add_argument(
        "--optimizer", choices=OPTIMIZERS, action="append", help="repeat to compare several (default: all)"
    )
    evaluate_pages.add_argument(
        "--users", type=_positive_int, help="only the first N users (default: all; 200 with --scenarios)"
    )
    evaluate_pages.add_argument("--workers", type=_positive_int, default=2, help="worker processes (default 2)")
    evaluate_pages.add_argument(
        "--scenarios",
        action="store_true",
        help="the scenario benchmark: every product scenario's layout and settings with every optimizer "
        "(not with --layout, --set or --optimizer)",
    )
    evaluate_pages.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar for --scenarios (default: on a terminal, not with --json)",
    )
    _json_flag(evaluate_pages)
    evaluate_pages.set_defaults(handler=_evaluate_pages)

    bench = commands.add_parser("bench", help="measure the speed targets and print JSON")
    bench.add_argument(
        "--suite",
        choices=["data", "generators", "pages", "titles", "app", "all"],
        default="all",
        help="which stage to measure",
    )
    bench.add_argument("--dataset", default=data.DEFAULT_DATASET, help="dataset for the generator suite")
    bench.add_argument("--synth-users", type=_positive_int, default=1_000_000)
    bench.add_argument("--synth-items", type=_positive_int, default=50_000)
    bench.add_argument("--synth-interactions", type=_positive_int, default=20_000_000)
    _json_flag(bench)
    bench.set_defaults(handler=_bench)

    app = commands.add_parser("app", help="start the Streamlit dashboard (on 127.0.0.1 unless told otherwise)")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=8501)
    app.set_defaults(handler=_app)
    return parser


def _page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layout", default="default", help="a shipped layout name or a layout .toml file")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a constraint of the layout, e.g. --set max_genre_share=0.3 --set dedup=soft",
    )
    parser.add_argument(
        "--node-limit",
        type=_positive_int,
        default=None,
        help="branch-and-bound nodes for a page the decomposition leaves unproven (a count, so results repeat)",
    )
    _backend_argument(parser, default=DEFAULT_BACKEND)
    parser.add_argument("--title-budget", type=_positive_float, default=2.0, help="seconds for a page's titles")


def _backend_argument(parser: argparse.ArgumentParser, *, default: str) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=default,
        help="the language model; auto: an Ollama server if one answers (OLLAMA_HOST), else the embedded "
        "model if prepared (`pagegen llm prepare`), else templates",
    )


def _model_arguments(parser: argparse.ArgumentParser, *, allow_all: bool = False) -> None:
    from pagegen.generators import GENERATORS

    parser.add_argument("--dataset", default=data.DEFAULT_DATASET)
    names = [*GENERATORS, "all", "llm-rerank"] if allow_all else list(GENERATORS)
    parser.add_argument("--model", required=True, help="one of: " + ", ".join(names))
    parser.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model parameter, e.g. --set l2=200",
    )
    parser.add_argument("--device", default=None, help="torch device for sasrec (cpu, cuda)")
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bars (default: on a terminal)"
    )
    _json_flag(parser)


def _id_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated item ids, got {text!r}") from None


def _key_values(pairs: Sequence[str]) -> dict[str, Any]:
    """``--set key=value`` pairs; values are read as JSON when they parse (numbers, lists), else as text."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise PagegenError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return values


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params = _key_values(args.params)
    if args.device:
        params["device"] = args.device
    return params


def _progress(args: argparse.Namespace) -> bool:
    return args.progress if args.progress is not None else (sys.stderr.isatty() and not args.json)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> int:
    print(json.dumps(payload, indent=2) if args.json else text)
    return 0


def _data_list(args: argparse.Namespace) -> int:
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
    return _emit(args, {"datasets": rows}, text + "\n(* = prepared)")


def _data_fetch(args: argparse.Namespace) -> int:
    report = data.fetch_dataset(
        args.dataset,
        data.resolve_data_dir(args.data_dir),
        force=args.force,
        timeout=args.timeout,
        progress=sys.stderr.isatty() and not args.json,
    )
    if report.skipped:
        text = f"{report.dataset} is already prepared in {report.path} (use --force to prepare it again)"
    else:
        text = (
            f"{report.dataset}: {report.interactions} interactions, {report.users} users, {report.items} items "
            f"from {report.source} → {report.path} in {report.seconds:.1f} s"
        )
    return _emit(args, vars(report), text)


def _data_info(args: argparse.Namespace) -> int:
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
    return _emit(args, info.to_dict(), text)


def _data_synth(args: argparse.Namespace) -> int:
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
    return _emit(args, payload, text)


def _data_split(args: argparse.Namespace) -> int:
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
    return _emit(args, payload, text)


def _model_on_leave_last_out(args: argparse.Namespace, *, retrain: bool = False) -> tuple[Any, Any, dict[str, Any]]:
    """The leave-last-out experiment of ``--dataset`` and ``--model`` fitted on it (loaded when saved)."""
    from pagegen.generators import artifacts, generator_class
    from pagegen.generators.experiments import leave_last_out_experiment

    cls = generator_class(args.model)
    data_dir = data.resolve_data_dir(args.data_dir)
    experiment = leave_last_out_experiment(data.load_dataset(args.dataset, data_dir))
    generator, manifest = artifacts.load_or_train(
        cls,
        data_dir,
        experiment.train,
        validation=experiment.validation,
        params=_params(args),
        retrain=retrain,
        progress=_progress(args),
    )
    return experiment, generator, manifest


def _train(args: argparse.Namespace) -> int:
    from pagegen.generators import artifacts

    experiment, generator, manifest = _model_on_leave_last_out(args, retrain=True)
    cls = type(generator)
    path = artifacts.artifact_paths(data.resolve_data_dir(args.data_dir), experiment.train, cls.name)[0]
    summary = ", ".join(
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
        for key, value in manifest["metrics"].items()
    )
    return _emit(args, {**manifest, "path": str(path)}, f"{cls.name} on {args.dataset}: {summary} → {path}")


def _recommend(args: argparse.Namespace) -> int:
    """Recommend from the user's history up to their held-out last interaction, which is marked if shown."""
    import polars as pl

    from pagegen.generators import Content

    experiment, generator, _ = _model_on_leave_last_out(args)
    cls = type(generator)
    serving = experiment.serving
    if args.genres is not None:
        if not isinstance(generator, Content):
            raise PagegenError(
                "--genres needs the content model (--model content); other models start from liked items"
            )
        top = generator.top_for_onboarding(args.genres, args.k)
        who = f"a new user who likes {', '.join(args.genres)}"
    else:
        history = serving.history(args.user) if args.user is not None else serving.item_indices(args.like)
        top = generator.recommend_for_history(history, args.k)
        who = f"user {args.user}" if args.user is not None else f"a new user who likes {args.like}"
    next_item = experiment.held_out_item(args.user) if args.user is not None else None
    top = top.join(serving.catalogue, on=S.ITEM_ID, how="left").with_columns(
        (pl.col(S.ITEM_ID) == next_item if next_item is not None else pl.lit(False)).alias("held_out")
    )
    rows = top.select("rank", S.ITEM_ID, "score", S.TITLE, S.YEAR, S.GENRES, "held_out").to_dicts()
    lines = [f"{cls.name} for {who} on {args.dataset}:"]
    lines += [
        f"{r['rank']:>3}. {r['title']} ({r['year']}) — {', '.join(r['genres'])}  [{r['score']:.3f}]"
        + ("  ★ what they watched next (held out)" if r["held_out"] else "")
        for r in rows
    ]
    payload = {
        "model": cls.name,
        "dataset": args.dataset,
        "user": args.user,
        "like": args.like,
        "genres": args.genres,
        "items": rows,
    }
    return _emit(args, payload, "\n".join(lines))


def _evaluate(args: argparse.Namespace) -> int:
    from pagegen.evaluation import EvaluationReport, evaluate_cold_start, evaluate_ranking
    from pagegen.generators import GENERATORS, artifacts, generator_class
    from pagegen.generators.experiments import cold_start_experiment, leave_last_out_experiment

    data_dir = data.resolve_data_dir(args.data_dir)
    if args.model == "llm-rerank":
        return _evaluate_rerank(args, data_dir)
    dataset = data.load_dataset(args.dataset, data_dir)
    classes = list(GENERATORS.values()) if args.model == "all" else [generator_class(args.model)]
    params = _params(args)
    if args.cold_start:
        cold = cold_start_experiment(dataset, fraction=args.cold_fraction)
        train, validation = cold.train, cold.validation
    else:
        experiment = leave_last_out_experiment(dataset)
        train, validation = experiment.train, experiment.validation
    accepted = set().union(*(cls.defaults for cls in classes))
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise PagegenError(f"no model takes parameter(s) {', '.join(unknown)}")
    reports = []
    for cls in classes:
        own_params = params if len(classes) == 1 else {k: v for k, v in params.items() if k in cls.defaults}
        generator, manifest = artifacts.load_or_train(
            cls,
            data_dir,
            train,
            validation=validation,
            params=own_params,
            retrain=args.retrain,
            progress=_progress(args),
        )
        if args.cold_start:
            metrics, score_seconds = evaluate_cold_start(generator, cold)
            users = len(cold.histories)
        else:
            metrics, score_seconds = evaluate_ranking(generator, experiment.test)
            users = len(experiment.test.targets)
        reports.append(
            EvaluationReport(
                model=cls.name,
                dataset=dataset.name,
                split=train.split,
                users=users,
                metrics=metrics,
                fit_seconds=float(manifest["metrics"].get("fit_seconds", 0.0)),
                score_seconds=round(score_seconds, 4),
                params=generator.params,
            )
        )
    payload = {"reports": [r.to_dict() for r in reports]}
    if not args.cold_start:
        from pagegen.evaluation.reports import save_report

        save_report(data_dir, dataset.name, "generators", payload)  # the dashboard's Insights table
    return _emit(args, payload, _report_table(reports))


def _evaluate_rerank(args: argparse.Namespace, data_dir: Path) -> int:
    from pagegen.evaluation.rerank import evaluate_rerank, format_rerank
    from pagegen.llm.registry import make_backend

    backend = make_backend(args.backend, data_dir=data_dir)
    backend.warm()
    report = evaluate_rerank(data_dir, args.dataset, backend, sample=args.sample)
    return _emit(args, report.to_dict(), format_rerank(report))


def _report_table(reports: list[Any]) -> str:
    columns = list(reports[0].metrics) if reports else []
    header = (
        f"{'model':<12}" + "".join(f"{c:>26}"[-max(len(c) + 2, 10) :] for c in columns) + f"{'fit s':>9}{'score s':>9}"
    )
    lines = [
        f"{reports[0].dataset if reports else ''} · {reports[0].split if reports else ''} · {reports[0].users if reports else 0} users",
        header,
    ]
    for r in reports:
        cells = "".join(f"{r.metrics[c]:.4f}".rjust(max(len(c) + 2, 10)) for c in columns)
        lines.append(f"{r.model:<12}{cells}{r.fit_seconds:>9.2f}{r.score_seconds:>9.3f}")
    return "\n".join(lines)


def _titled_page(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The user's page, optimized and titled as the arguments say; also the service and titles report."""
    from pagegen.layout import resolve_layout
    from pagegen.llm.registry import make_backend
    from pagegen.optimizer import NODE_LIMIT, export_lp, optimize
    from pagegen.serving import PageService

    layout = resolve_layout(args.layout)
    data_dir = data.resolve_data_dir(args.data_dir)
    service = PageService(args.dataset, data_dir)
    problem = service.problem(args.user, layout, _key_values(args.settings))
    if getattr(args, "export_lp", None):
        export_lp(problem, args.export_lp)
    page = optimize(problem, args.optimizer, node_limit=args.node_limit or NODE_LIMIT)
    backend = make_backend(args.backend, data_dir=data_dir)
    backend.warm()  # a model's one-time load is not part of a page's title budget
    page, titles = service.title(page, backend, budget=args.title_budget)
    if titles.notice:
        print(f"pagegen: {titles.notice}", file=sys.stderr)
    return service, page, titles


def _page(args: argparse.Namespace) -> int:
    service, page, titles = _titled_page(args)
    held_out = service.experiment.held_out_item(args.user) if args.user is not None else None
    payload = {**page.to_dict(timings=args.timings), "titles": titles.to_dict(timings=args.timings)}
    return _emit(args, payload, _page_text(page, args.dataset, held_out) + f"\n{_titles_line(titles)}")


def _titles(args: argparse.Namespace) -> int:
    _, page, titles = _titled_page(args)
    rows = [
        {"row_id": row.row_id, "title": row.title, "source": row.title_source, "note": row.title_note}
        for row in page.rows
    ]
    lines = [f"{row['title']:<50} {row['source']:<9} {row['note']}".rstrip() for row in rows]
    return _emit(
        args, {"titles": titles.to_dict(timings=True), "rows": rows}, "\n".join([*lines, _titles_line(titles)])
    )


def _titles_line(titles: Any) -> str:
    return (
        f"titles by {titles.backend}: {titles.from_model} from the model, {titles.from_cache} cached, "
        f"{titles.from_template} template ({titles.seconds:.2f} s)"
    )


def _llm_describe(args: argparse.Namespace) -> int:
    from pagegen.llm.descriptions import describe_items
    from pagegen.llm.registry import make_backend

    data_dir = data.resolve_data_dir(args.data_dir)
    dataset = data.load_dataset(args.dataset, data_dir)
    backend = make_backend(args.backend, data_dir=data_dir)
    backend.warm()
    report = describe_items(data_dir, dataset.name, dataset.items, backend, limit=args.limit, progress=_progress(args))
    text = (
        f"{report.described} items described by {report.backend} ({report.refused} answers refused), "
        f"{report.already} done before, {report.remaining} left ({report.seconds} s)"
    )
    return _emit(args, dataclasses.asdict(report), text)


def _llm_prepare(args: argparse.Namespace) -> int:
    from pagegen.llm.embedded import SMOLLM2, prepare_embedded

    started = time.perf_counter()
    converted = prepare_embedded(data.resolve_data_dir(args.data_dir))
    payload = {"model": SMOLLM2.name, "path": str(converted), "seconds": round(time.perf_counter() - started, 1)}
    return _emit(args, payload, f"{SMOLLM2.name} ready in {converted} ({payload['seconds']} s)")


def _page_text(page: Any, dataset: str, held_out: int | None) -> str:
    who = f"user {page.user_id}" if page.user_id is not None else "a new user"
    report = page.report
    lines = [f"{page.layout} for {who} on {dataset}", ""]
    for row in page.rows:
        lines.append(f"{row.title}  [{row.kind} of {row.slots}, {row.reason.source}]")
        for item in row.items:
            mark = "  ★ watched next (held out)" if item.item_id == held_out else ""
            lines.append(f"  {item.title} ({item.year}) — {', '.join(item.genres)}  [{item.score:.3f}]{mark}")
        lines.append("")
    status = f"{report.optimizer} {report.status}, objective {report.objective:.4f}"
    if report.gap is not None:
        status += f", gap {report.gap:.2%}"
    lines.append(status)
    for name, baseline in report.baselines.items():
        lines.append(f"  {name}: objective {baseline['objective']:.4f} ({baseline['shortfall']:.2%} below)")
    for relaxation in report.relaxations:
        lines.append(f"relaxed {relaxation.describe()}")
    if report.message:
        lines.append(report.message)
    return "\n".join(lines)


def _evaluate_pages(args: argparse.Namespace) -> int:
    from pagegen.evaluation.pages import evaluate_pages
    from pagegen.evaluation.reports import save_report
    from pagegen.layout import parse_constraints, resolve_layout
    from pagegen.optimizer import NODE_LIMIT

    if args.scenarios:
        return _evaluate_scenarios(args)
    layout = resolve_layout(args.layout)
    settings = _key_values(args.settings)
    if settings:
        layout = dataclasses.replace(
            layout, constraints=parse_constraints(settings, source="--set", base=layout.constraints)
        )
    data_dir = data.resolve_data_dir(args.data_dir)
    summary = evaluate_pages(
        args.dataset,
        data_dir,
        layout,
        optimizers=args.optimizer or OPTIMIZERS,
        max_users=args.users,
        workers=args.workers,
        node_limit=args.node_limit or NODE_LIMIT,
    )
    save_report(data_dir, args.dataset, "pages", summary)  # the dashboard's Insights charts
    optimizers = args.optimizer or OPTIMIZERS
    columns = ("objective", "hit", "carousel_ndcg", "attention_relevance", "intra_row_diversity", "genres_covered",
               "novelty", "catalog_coverage", "exposure_gini", "relaxed_pages")  # fmt: skip
    lines = [
        f"{summary['dataset']} · {summary['layout']} · {summary['users']} users · {summary['seconds']:.1f} s",
        f"{'optimizer':<10}" + "".join(f"{c:>{max(len(c) + 2, 10)}}" for c in columns),
    ]
    for name in optimizers:
        row = summary[name]
        lines.append(f"{name:<10}" + "".join(f"{row[c]:>{max(len(c) + 2, 10)}.4f}" for c in columns))
    lines.append(f"top picks alone, as many items: hit {summary['top_picks_alone']['hit']:.4f}")
    if "ilp_vs_greedy" in summary:
        versus = summary["ilp_vs_greedy"]
        lines.append(
            f"ILP ≥ greedy on {versus['users_ilp_at_least_greedy']} of {summary['users']} users, "
            f"mean objective gain {versus['mean_objective_gain']:.4f}; ILP statuses {versus['statuses']}"
        )
    return _emit(args, summary, "\n".join(lines))


def _evaluate_scenarios(args: argparse.Namespace) -> int:
    from pagegen.evaluation.reports import save_report
    from pagegen.evaluation.scenarios import SCENARIO_USERS, evaluate_scenarios, format_scenarios
    from pagegen.optimizer import NODE_LIMIT
    from pagegen.serving import PageService

    if args.layout != "default" or args.settings or args.optimizer:
        raise PagegenError(
            "--scenarios runs each scenario's own layout and settings with every optimizer; "
            "leave out --layout, --set and --optimizer"
        )
    data_dir = data.resolve_data_dir(args.data_dir)
    report = evaluate_scenarios(
        PageService(args.dataset, data_dir),  # trains and saves missing models once, before the workers
        max_users=args.users or SCENARIO_USERS,
        workers=args.workers,
        node_limit=args.node_limit or NODE_LIMIT,
        progress=_progress(args),
    )
    payload = dataclasses.asdict(report)
    save_report(data_dir, args.dataset, "scenarios", payload)  # the dashboard's Insights table
    return _emit(args, payload, format_scenarios(report))


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
    return _emit(args, payload, "\n".join(lines))


def _app(args: argparse.Namespace) -> int:
    """Run ``streamlit run streamlit_app.py`` from the project folder, bound to ``--host``."""
    app_file = Path(__file__).resolve().parent.parent / "streamlit_app.py"
    if not app_file.is_file():
        raise PagegenError(f"the dashboard needs the source checkout: {app_file} is missing")
    env = dict(os.environ)
    # Streamlit runs in the project folder: pass the data directory the CLI would use, absolute.
    env[data.store.DATA_DIR_ENV] = str(data.resolve_data_dir(args.data_dir).resolve())
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.address", args.host, "--server.port", str(args.port),
    ]  # fmt: skip
    return subprocess.call(command, env=env, cwd=app_file.parent)


if __name__ == "__main__":
    sys.exit(main())
