"""``pagegen train``, ``recommend`` and ``evaluate``: one generator (or all) on a dataset's splits."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from pagegen import data
from pagegen.cli.arguments import (
    Commands,
    backend_argument,
    emit,
    id_list,
    json_flag,
    key_values,
    positive_int,
    progress,
    progress_flag,
)
from pagegen.data import schema as S
from pagegen.errors import PagegenError
from pagegen.vocabulary import DEFAULT_BACKEND, GENERATOR_NAMES, RANKER


def add_commands(commands: Commands) -> None:
    train = commands.add_parser("train", help="fit a generator on the leave-last-out train split and save it")
    _model_arguments(train)
    train.set_defaults(handler=_train)

    recommend = commands.add_parser("recommend", help="top items for a user (or for a new user's liked items)")
    _model_arguments(recommend)
    who = recommend.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", type=int, help="a user id of the dataset")
    who.add_argument("--like", type=id_list, help="a new user's liked item ids, comma-separated (cold start)")
    who.add_argument(
        "--genres",
        type=lambda text: [g.strip() for g in text.split(",") if g.strip()],
        help="a new user's genres, comma-separated (content model)",
    )
    recommend.add_argument("--k", type=positive_int, default=10)
    recommend.set_defaults(handler=_recommend)

    evaluate = commands.add_parser("evaluate", help="offline metrics with full ranking (leave-last-out or cold start)")
    _model_arguments(evaluate, allow_all=True)
    evaluate.add_argument("--cold-start", action="store_true", help="rank only the newest items, held out of training")
    evaluate.add_argument("--cold-fraction", type=float, default=0.1)
    evaluate.add_argument("--retrain", action="store_true", help="fit again even when a matching model is saved")
    evaluate.add_argument(
        "--sample", type=positive_int, default=None, help="users for --model llm-rerank (50); films for --ask (30)"
    )
    evaluate.add_argument(
        "--ask",
        action="store_true",
        help="ask for rows: requests generated from the catalogue, read by rules and (with --backend) by a model",
    )
    evaluate.add_argument("--layout", default="default", help="the page layout for --ask")
    backend_argument(evaluate, default=DEFAULT_BACKEND)
    evaluate.set_defaults(handler=_evaluate)


def _model_arguments(parser: argparse.ArgumentParser, *, allow_all: bool = False) -> None:
    parser.add_argument("--dataset", default=data.DEFAULT_DATASET)
    names = [*GENERATOR_NAMES, RANKER, "all", "llm-rerank"] if allow_all else list(GENERATOR_NAMES)
    parser.add_argument(
        "--model",
        required=not allow_all,
        help="one of: " + ", ".join(names) + (" (not with --ask)" if allow_all else ""),
    )
    parser.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model parameter, e.g. --set l2=200",
    )
    parser.add_argument("--device", default=None, help="torch device for sasrec (cpu, cuda)")
    progress_flag(parser)
    json_flag(parser)


def _params(args: argparse.Namespace) -> dict[str, Any]:
    params = key_values(args.params)
    if args.device:
        params["device"] = args.device
    return params


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
        progress=progress(args),
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
    return emit(args, {**manifest, "path": str(path)}, f"{cls.name} on {args.dataset}: {summary} → {path}")


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
    return emit(args, payload, "\n".join(lines))


def _evaluate(args: argparse.Namespace) -> int:
    from pagegen.evaluation import EvaluationReport, evaluate_cold_start, evaluate_ranking, format_evaluation
    from pagegen.evaluation.protocol import evaluation_payload, save_evaluation
    from pagegen.generators import GENERATORS, artifacts, generator_class
    from pagegen.generators.experiments import cold_start_experiment, leave_last_out_experiment
    from pagegen.ranker import load_or_fit_ranker

    data_dir = data.resolve_data_dir(args.data_dir)
    if args.ask:
        if args.model:
            raise PagegenError("--ask evaluates asked rows on the page's own models; leave out --model")
        return _evaluate_ask(args, data_dir)
    if not args.model:
        raise PagegenError("evaluate needs --model (or --ask)")
    if args.model == "llm-rerank":
        return _evaluate_rerank(args, data_dir)
    dataset = data.load_dataset(args.dataset, data_dir)
    ranked = args.model in ("all", RANKER)  # the ranker needs every generator it blends
    if ranked and args.cold_start:
        raise PagegenError("the ranker is evaluated on leave-last-out; cold start ranks new items by content alone")
    classes = list(GENERATORS.values()) if ranked else [generator_class(args.model)]
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
    fitted = {}
    for cls in classes:
        own_params = params if len(classes) == 1 else {k: v for k, v in params.items() if k in cls.defaults}
        generator, manifest = artifacts.load_or_train(
            cls,
            data_dir,
            train,
            validation=validation,
            params=own_params,
            retrain=args.retrain,
            progress=progress(args),
        )
        fitted[cls.name] = (generator, manifest)
        if args.model == RANKER:
            continue
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
    if ranked:
        started = time.perf_counter()
        ranker = load_or_fit_ranker(
            {name: generator for name, (generator, _) in fitted.items()},
            data_dir,
            train,
            validation,
            {name: manifest for name, (_, manifest) in fitted.items()},
            progress=progress(args),
        )
        fit = time.perf_counter() - started
        metrics, score_seconds = evaluate_ranking(ranker, experiment.test)
        reports.append(
            EvaluationReport(
                model=RANKER,
                dataset=dataset.name,
                split=train.split,
                users=len(experiment.test.targets),
                metrics=metrics,
                fit_seconds=round(fit, 3),
                score_seconds=round(score_seconds, 4),
                params={"generators": list(ranker.generator_names), "fitted_users": ranker.weights.users},
            )
        )
    if not args.cold_start and args.model != RANKER:
        save_evaluation(data_dir, dataset.name, reports)  # the dashboard's Insights table
    return emit(args, evaluation_payload(reports), format_evaluation(reports))


def _evaluate_rerank(args: argparse.Namespace, data_dir: Path) -> int:
    from pagegen.evaluation.rerank import evaluate_rerank, format_rerank
    from pagegen.llm.registry import make_backend

    backend = make_backend(args.backend, data_dir=data_dir)
    backend.warm()
    report = evaluate_rerank(data_dir, args.dataset, backend, sample=args.sample or 50)
    return emit(args, report.to_dict(), format_rerank(report))


def _evaluate_ask(args: argparse.Namespace, data_dir: Path) -> int:
    """The rules always; the model too when ``--backend`` gives one that reads requests."""
    from pagegen.evaluation.ask import evaluate_ask, format_ask
    from pagegen.layout import resolve_layout
    from pagegen.llm.backends import TemplateBackend
    from pagegen.llm.registry import request_reader
    from pagegen.serving import PageService

    reader = request_reader(args.backend, data_dir=data_dir)
    readers = [TemplateBackend(), *([reader] if reader.generates else [])]
    for backend in readers:
        backend.warm()
    service = PageService(args.dataset, data_dir, progress=progress(args))
    report = evaluate_ask(
        service, resolve_layout(args.layout), readers, films=args.sample or 30, progress=progress(args)
    )
    return emit(args, report.to_dict(), format_ask(report))
