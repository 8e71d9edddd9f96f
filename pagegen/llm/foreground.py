"""Background model work gives way to a person waiting: while any dashboard script run is solving and
drawing a page, the title decoder waits between its steps.

The dashboard is one process. Its background titler decodes in a thread whose loop is Python between torch
calls, so on two cores it shared the interpreter with the script run drawing the page a person just
asked for: a slider move drew in ~1 s while a title was being written against ~0.2 s without. Waiting
between decoding steps costs the titles only the time the page takes; ``MAX_PAUSE`` bounds each wait so
titles never starve behind a dashboard that is never idle (several sessions dragging sliders).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

MAX_PAUSE = 2.0  # seconds one decoding step waits at most for the foreground to finish


class Foreground:
    """Counts the foreground runs in progress; background work waits until there are none."""

    def __init__(self, *, max_pause: float = MAX_PAUSE) -> None:
        self.max_pause = max_pause
        self._running = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """A block a person waits for (a script run drawing a page)."""
        with self._idle:
            self._running += 1
        try:
            yield
        finally:
            with self._idle:
                self._running -= 1
                if not self._running:
                    self._idle.notify_all()

    def wait_until_idle(self) -> None:
        """Block while a foreground run is in progress, at most ``max_pause`` seconds."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running, self.max_pause)


FOREGROUND = Foreground()  # the process's one: the dashboard's script runs and its background titler
