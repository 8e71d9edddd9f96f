"""The ``pagegen`` command line: every figure or structure it prints is also available as JSON.

One module per command family adds its parsers; heavy libraries (torch, the solver, Streamlit) are
imported inside the handlers, so ``pagegen --help`` starts fast.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pagegen.cli import app, bench, data, llm, models, pages
from pagegen.data.store import DATA_DIR_ENV
from pagegen.errors import PagegenError

COMMANDS = (  # each adds its parsers, in the order ``--help`` lists them
    data.add_commands,
    models.add_commands,
    pages.add_page_commands,
    pages.add_batch_commands,
    llm.add_commands,
    pages.add_evaluate_pages,
    bench.add_commands,
    app.add_commands,
)


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
    parser = argparse.ArgumentParser(prog="pagegen", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where datasets live (default: ${DATA_DIR_ENV} or ./data)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add_commands in COMMANDS:
        add_commands(commands)
    return parser
