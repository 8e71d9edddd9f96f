"""Loopback HTTP servers for tests that talk to a stand-in service (GroupLens, Ollama) on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON in one call."""

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # closing does not wait for a handler still sleeping on a slow answer

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that gave up on a slow answer is what some tests are about, not an error


@contextmanager
def loopback_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[http.server.ThreadingHTTPServer]:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving ``handler``, shut down afterwards."""
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def server_url(server: http.server.ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


class TitlingOllama(QuietHandler):
    """An Ollama server with no model to list (``auto`` passes it by) that titles each row "<its first
    genre> <a word of its own>" after ``server.delay`` seconds, and keeps its answers in ``server.titles``."""

    WORDS = ("Picks", "Favourites", "Gems", "Hits", "Treasures", "Selections", "Showcase", "Marathon", "Nights")

    def do_GET(self) -> None:
        self.send_json(200, {"models": []})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)  # type: ignore[attr-defined]
        genre = re.findall(r"genres ([^,;\n]+)", body["messages"][-1]["content"])[-1]  # the last row is this one
        titles = self.server.titles  # type: ignore[attr-defined]
        title = f"{genre} {self.WORDS[len(titles) % len(self.WORDS)]}"
        titles.append(title)
        self.send_json(200, {"model": body["model"], "message": {"role": "assistant", "content": title}, "done": True})


@contextmanager
def titling_ollama(delay: float = 0.0) -> Iterator[http.server.ThreadingHTTPServer]:
    """A ``TitlingOllama`` server on loopback, answering each request after ``delay`` seconds."""
    with loopback_server(TitlingOllama) as server:
        server.titles, server.delay = [], delay  # type: ignore[attr-defined]
        yield server
