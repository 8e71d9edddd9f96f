"""Shared fixtures: tiny files in the real MovieLens formats, written by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pagegen.data import store
from tests.factories import synthetic_service
from tests.formats import (
    LATEST_LINKS,
    LATEST_MOVIES,
    LATEST_RATINGS,
    LATEST_TAGS,
    ML100K_U_DATA,
    ML100K_U_ITEM,
    ML100K_U_USER,
    make_zip,
)
from tests.loopback import QuietHandler, loopback_server, server_url


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory that every pagegen call in the test uses."""
    directory = tmp_path / "data"
    monkeypatch.setenv(store.DATA_DIR_ENV, str(directory))
    return directory


@pytest.fixture
def ml100k_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "ml-100k.zip",
        {"ml-100k/u.data": ML100K_U_DATA, "ml-100k/u.item": ML100K_U_ITEM, "ml-100k/u.user": ML100K_U_USER},
        encoding="latin-1",
    )


@pytest.fixture
def latest_zip(tmp_path: Path) -> Path:
    return make_zip(
        tmp_path / "ml-latest-small.zip",
        {
            "ml-latest-small/ratings.csv": LATEST_RATINGS,
            "ml-latest-small/movies.csv": LATEST_MOVIES,
            "ml-latest-small/links.csv": LATEST_LINKS,
            "ml-latest-small/tags.csv": LATEST_TAGS,
        },
    )


class _Handler(QuietHandler):
    """Serves ``server.routes[path] = (body, declared_length)`` on loopback; 404 otherwise."""

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path)  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404)
            return
        body, declared_length = route
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(declared_length if declared_length is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def grouplens_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, tuple[bytes, int | None]]]:
    """A stand-in GroupLens on 127.0.0.1; tests fill its routes. PAGEGEN_GROUPLENS_URL points at it."""
    with loopback_server(_Handler) as server:
        server.routes = {}  # type: ignore[attr-defined]
        monkeypatch.setenv("PAGEGEN_GROUPLENS_URL", f"{server_url(server)}/movielens/")
        yield server.routes  # type: ignore[attr-defined]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def files_under():
    """Every file (not folder) below a directory: for "nothing partial was left behind" checks."""

    def list_files(directory: Path) -> list[Path]:
        return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []

    return list_files


@pytest.fixture(scope="session")
def small_service(tmp_path_factory: pytest.TempPathFactory):
    """One page service over a small synthetic catalogue (120 items), trained once for the modules that
    only read pages from it (serving, asking and its evaluation)."""
    return synthetic_service(tmp_path_factory.mktemp("small-service"), items=120)
