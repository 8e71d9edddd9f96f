"""``pagegen app``: the Streamlit dashboard, started from the source checkout."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from pagegen import data
from pagegen.cli.arguments import Commands
from pagegen.errors import PagegenError
from pagegen.files import DASHBOARD_SCRIPT


def add_commands(commands: Commands) -> None:
    app = commands.add_parser("app", help="start the Streamlit dashboard (on 127.0.0.1 unless told otherwise)")
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--port", type=int, default=8501)
    app.set_defaults(handler=_app)


def _app(args: argparse.Namespace) -> int:
    """Run ``streamlit run streamlit_app.py`` from the project folder, bound to ``--host``."""
    app_file = DASHBOARD_SCRIPT
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
