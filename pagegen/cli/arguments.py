"""Argument types and argument groups several commands share, and the one way a command prints."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from pagegen.errors import PagegenError
from pagegen.vocabulary import BACKENDS, DEFAULT_BACKEND, DEFAULT_ENGINE, ENGINES

Commands = Any  # argparse's subparsers action (a private type): each command module adds its parsers to it


def emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> int:
    """Print ``payload`` as JSON under ``--json``, else ``text``; a command's exit status."""
    print(json.dumps(payload, indent=2) if args.json else text)
    return 0


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def progress_flag(parser: argparse.ArgumentParser, what: str = "progress bars, and what is trained and why") -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"{what} on stderr (default: on a terminal, not with --json)",
    )


def progress(args: argparse.Namespace) -> bool:
    """Progress bars as asked, else on a terminal unless the output is JSON."""
    return args.progress if args.progress is not None else (sys.stderr.isatty() and not args.json)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def id_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated item ids, got {text!r}") from None


def key_values(pairs: Sequence[str]) -> dict[str, Any]:
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


def backend_argument(parser: argparse.ArgumentParser, *, default: str) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=default,
        help="the language model; auto: an Ollama server if one answers (OLLAMA_HOST), else the embedded "
        "model if prepared (`pagegen llm prepare`), else templates",
    )


def page_arguments(parser: argparse.ArgumentParser, *, backend: str = DEFAULT_BACKEND) -> None:
    """The layout, its settings, the solver's node limit, the titles and progress: what every page
    command takes (``backend``: the default title backend)."""
    progress_flag(parser)
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
        type=positive_int,
        default=None,
        help="branch-and-bound nodes for a page the decomposition finds no bound for (a count, so results repeat)",
    )
    backend_argument(parser, default=backend)
    parser.add_argument("--title-budget", type=positive_float, default=2.0, help="seconds for a page's titles")


def engine_arguments(parser: argparse.ArgumentParser, *, workers: int | None) -> None:
    """Where per-user work runs: ``--engine``, ``--address``, ``--workers`` (``workers`` None: a worker
    per core, or per CPU of the Ray cluster joined)."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help="local: worker processes on this machine; ray: Ray actors (a local Ray cluster, or --address)",
    )
    parser.add_argument(
        "--address", help="join the Ray cluster at HOST:PORT (or ray://HOST:PORT) instead of starting one"
    )
    default = f"default {workers}" if workers else "default: one per core, or per CPU of the Ray cluster"
    parser.add_argument("--workers", type=positive_int, default=workers, help=f"worker processes or actors ({default})")


def engine_choice(args: argparse.Namespace) -> Any:
    """The engine the arguments ask for (a ConfigError names a bad combination, before anything starts)."""
    from pagegen.batch.engines import EngineChoice

    return EngineChoice(args.engine, args.workers, args.address)
