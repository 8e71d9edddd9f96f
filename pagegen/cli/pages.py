"""``pagegen page``, ``ask``, ``titles``, ``pages export|summary`` and ``evaluate-pages``: a user's
optimized, titled page; every user's page precomputed into Parquet on an engine, and an export summed
up; pages for every user measured (``--scenarios``: the product scenario benchmark)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import Any

from pagegen import data
from pagegen.cli.arguments import (
    Commands,
    emit,
    engine_arguments,
    engine_choice,
    id_list,
    json_flag,
    key_values,
    page_arguments,
    positive_int,
    progress,
)
from pagegen.errors import PagegenError
from pagegen.vocabulary import DEFAULT_OPTIMIZER, OPTIMIZERS


def add_page_commands(commands: Commands) -> None:
    page = commands.add_parser("page", help="a user's homepage: rows chosen and filled by the optimizer")
    page.add_argument("--dataset", default=data.DEFAULT_DATASET)
    page.add_argument("--user", type=int, help="a user id of the dataset (omit for a new user: a cold-start page)")
    page_arguments(page)
    page.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULT_OPTIMIZER)
    page.add_argument("--timings", action="store_true", help="include build and solve seconds in the JSON")
    page.add_argument("--export-lp", type=Path, metavar="FILE", help="also write the page's ILP (PuLP's LP format)")
    json_flag(page)
    page.set_defaults(handler=_page)

    ask = commands.add_parser(
        "ask", help="ask for a row in your own words: the page with that row on top (e.g. '80s horror')"
    )
    ask.add_argument("request", help='what you would like, e.g. "something like Alien but funny"')
    ask.add_argument("--dataset", default=data.DEFAULT_DATASET)
    who = ask.add_mutually_exclusive_group()
    who.add_argument("--user", type=int, help="a user id of the dataset (omit, or give --like, for a new user)")
    who.add_argument("--like", type=id_list, default=[], help="a new user's liked item ids, comma-separated")
    page_arguments(ask)
    ask.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULT_OPTIMIZER)
    ask.add_argument("--timings", action="store_true", help="include build and solve seconds in the JSON")
    json_flag(ask)
    ask.set_defaults(handler=_ask)

    titles = commands.add_parser("titles", help="a user's page titles from the language model (or the template)")
    titles.add_argument("--dataset", default=data.DEFAULT_DATASET)
    titles.add_argument("--user", type=int, help="a user id of the dataset (omit for a new user)")
    page_arguments(titles)
    json_flag(titles)
    titles.set_defaults(handler=_titles, optimizer=DEFAULT_OPTIMIZER, timings=False)


def add_batch_commands(commands: Commands) -> None:
    pages = commands.add_parser("pages", help="every user's page at once: export them to Parquet, sum an export up")
    pages_commands = pages.add_subparsers(title="pages commands", metavar="COMMAND")
    export = pages_commands.add_parser(
        "export",
        help="every user's page (rows, items with score parts, titles, solver report) to partitioned Parquet; "
        "rerun to resume",
    )
    export.add_argument("--dataset", default=data.DEFAULT_DATASET)
    page_arguments(export, backend="template")
    export.add_argument("--optimizer", choices=OPTIMIZERS, default=DEFAULT_OPTIMIZER)
    export.add_argument(
        "--users", default="all", help="all (default), the first N users, or a file of user ids, one per line"
    )
    engine_arguments(export, workers=None)
    export.add_argument(
        "--out",
        type=Path,
        help="the export folder (default: <data dir>/<dataset>/exports/<layout>, where Insights looks)",
    )
    export.add_argument("--force", action="store_true", help="replace an export of other inputs in --out")
    export.add_argument(
        "--batch-users", type=positive_int, help="users per batch and partition (default: 256, fewer for small exports)"
    )
    json_flag(export)
    export.set_defaults(handler=_export)

    summary = pages_commands.add_parser("summary", help="an export summed up: hit rate, coverage, exposure Gini, …")
    summary.add_argument("--dataset", default=data.DEFAULT_DATASET, help="its newest export, when --out is not given")
    summary.add_argument("--out", type=Path, help="the export folder")
    json_flag(summary)
    summary.set_defaults(handler=_summary)


def add_evaluate_pages(commands: Commands) -> None:
    evaluate_pages = commands.add_parser("evaluate-pages", help="page metrics for every user: ILP vs greedy vs MMR")
    evaluate_pages.add_argument("--dataset", default=data.DEFAULT_DATASET)
    page_arguments(evaluate_pages)
    evaluate_pages.add_argument(
        "--optimizer", choices=OPTIMIZERS, action="append", help="repeat to compare several (default: all)"
    )
    evaluate_pages.add_argument(
        "--users", type=positive_int, help="only the first N users (default: all; 200 with --scenarios)"
    )
    engine_arguments(evaluate_pages, workers=2)
    evaluate_pages.add_argument(
        "--scenarios",
        action="store_true",
        help="the scenario benchmark: every product scenario's layout and settings with every optimizer "
        "(not with --layout, --set or --optimizer)",
    )
    json_flag(evaluate_pages)
    evaluate_pages.set_defaults(handler=_evaluate_pages)


def _titled_page(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The user's page, optimized and titled as the arguments say; also the service and titles report."""
    from pagegen.layout import resolve_layout
    from pagegen.optimizer import NODE_LIMIT, export_lp, optimize
    from pagegen.serving import PageService

    layout = resolve_layout(args.layout)
    data_dir = data.resolve_data_dir(args.data_dir)
    service = PageService(args.dataset, data_dir, progress=progress(args))
    problem = service.problem(args.user, layout, key_values(args.settings))
    if getattr(args, "export_lp", None):
        export_lp(problem, args.export_lp)
    page = optimize(problem, args.optimizer, node_limit=args.node_limit or NODE_LIMIT)
    page, titles = _title(args, service, page)
    return service, page, titles


def _title(args: argparse.Namespace, service: Any, page: Any) -> tuple[Any, Any]:
    """The page titled by ``--backend`` within ``--title-budget``; a fallback's notice goes to stderr."""
    from pagegen.llm.registry import make_backend

    backend = make_backend(args.backend, data_dir=service.data_dir)
    with contextlib.suppress(PagegenError):  # a model that cannot load: titling falls back and says why
        backend.warm()  # a model's one-time load is not part of a page's title budget
    page, titles = service.title(page, backend, budget=args.title_budget)
    if titles.notice:
        print(f"pagegen: {titles.notice}", file=sys.stderr)
    return page, titles


def _page(args: argparse.Namespace) -> int:
    from pagegen.llm.titles import format_titles
    from pagegen.optimizer import format_page

    service, page, titles = _titled_page(args)
    held_out = service.experiment.held_out_item(args.user) if args.user is not None else None
    payload = {**page.to_dict(timings=args.timings), "titles": titles.to_dict(timings=args.timings)}
    return emit(args, payload, format_page(page, args.dataset, held_out) + f"\n{format_titles(titles)}")


def _ask(args: argparse.Namespace) -> int:
    """The page with the asked row on top; the request read by the backend's model when it has one that
    reads well (``request_reader``), else by rules; the other rows titled as ``pagegen page`` titles them."""
    from pagegen.layout import resolve_layout
    from pagegen.llm.registry import request_reader
    from pagegen.optimizer import NODE_LIMIT
    from pagegen.serving import PageService, format_asked

    layout = resolve_layout(args.layout)
    data_dir = data.resolve_data_dir(args.data_dir)
    service = PageService(args.dataset, data_dir, progress=progress(args))
    asked = service.ask(
        [args.request],
        args.user,
        layout,
        key_values(args.settings),
        reader=request_reader(args.backend, data_dir=data_dir),
        optimizer=args.optimizer,
        node_limit=args.node_limit or NODE_LIMIT,
        liked=args.like,
    )
    page, titles = _title(args, service, asked.page)
    asked = dataclasses.replace(asked, page=page)
    held_out = service.experiment.held_out_item(args.user) if args.user is not None else None
    payload = {**asked.to_dict(timings=args.timings), "titles": titles.to_dict(timings=args.timings)}
    return emit(args, payload, format_asked(asked, args.dataset, held_out))


def _titles(args: argparse.Namespace) -> int:
    from pagegen.llm.titles import format_titles

    _, page, titles = _titled_page(args)
    rows = [
        {"row_id": row.row_id, "title": row.title, "source": row.title_source, "note": row.title_note}
        for row in page.rows
    ]
    lines = [f"{row['title']:<50} {row['source']:<9} {row['note']}".rstrip() for row in rows]
    return emit(
        args, {"titles": titles.to_dict(timings=True), "rows": rows}, "\n".join([*lines, format_titles(titles)])
    )


def _layout_with_settings(args: argparse.Namespace) -> Any:
    """``--layout`` with the ``--set`` overrides applied to its constraints."""
    from pagegen.layout import parse_constraints, resolve_layout

    layout = resolve_layout(args.layout)
    settings = key_values(args.settings)
    if settings:
        layout = dataclasses.replace(
            layout, constraints=parse_constraints(settings, source="--set", base=layout.constraints)
        )
    return layout


def _evaluate_pages(args: argparse.Namespace) -> int:
    from pagegen.evaluation.pages import evaluate_pages, format_pages
    from pagegen.evaluation.reports import save_report
    from pagegen.optimizer import NODE_LIMIT
    from pagegen.serving import PageService

    if args.scenarios:
        return _evaluate_scenarios(args)
    layout = _layout_with_settings(args)
    data_dir = data.resolve_data_dir(args.data_dir)
    report = evaluate_pages(
        PageService(args.dataset, data_dir, progress=progress(args)),  # trains missing models before the workers
        layout,
        optimizers=args.optimizer or OPTIMIZERS,
        max_users=args.users,
        engine=engine_choice(args),
        node_limit=args.node_limit or NODE_LIMIT,
        progress=progress(args),
    )
    payload = report.to_dict()
    save_report(data_dir, args.dataset, "pages", payload)  # the dashboard's Insights charts
    return emit(args, payload, format_pages(report))


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
        PageService(
            args.dataset, data_dir, progress=progress(args)
        ),  # trains and saves missing models once, before the workers
        max_users=args.users or SCENARIO_USERS,
        engine=engine_choice(args),
        node_limit=args.node_limit or NODE_LIMIT,
        progress=progress(args),
    )
    payload = dataclasses.asdict(report)
    save_report(data_dir, args.dataset, "scenarios", payload)  # the dashboard's Insights table
    return emit(args, payload, format_scenarios(report))


def _export(args: argparse.Namespace) -> int:
    from pagegen.batch.export import EXPORTS, PageSettings, export_pages, format_export, select_users
    from pagegen.optimizer import NODE_LIMIT
    from pagegen.serving import PageService

    engine = engine_choice(args)  # a bad engine choice fails before any model loads
    layout = _layout_with_settings(args)
    data_dir = data.resolve_data_dir(args.data_dir)
    service = PageService(args.dataset, data_dir, progress=progress(args))  # trains missing models before workers
    out = args.out or data_dir / args.dataset / EXPORTS / Path(args.layout).stem
    report = export_pages(
        service,
        PageSettings(layout, args.optimizer, args.node_limit or NODE_LIMIT, args.backend, args.title_budget),
        select_users(service, args.users),
        out,
        engine=engine,
        batch_users=args.batch_users,
        force=args.force,
        progress=progress(args),
    )
    return emit(args, report.to_dict(), format_export(report))


def _summary(args: argparse.Namespace) -> int:
    from pagegen.batch.summary import find_exports, format_export_summary, summarize_export

    out = args.out
    if out is None:
        found = find_exports(data.resolve_data_dir(args.data_dir), args.dataset)
        if not found:
            raise PagegenError(
                f"no export of {args.dataset} yet: make one with `pagegen pages export --dataset {args.dataset}`"
            )
        out = found[0]
    summary = summarize_export(out)
    return emit(args, summary.to_dict(), format_export_summary(summary))
