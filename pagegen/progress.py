"""Progress on long work, always on stderr: stdout may carry ``--json``.

Library code takes ``progress: bool`` (the CLI passes true on a terminal or with ``--progress``,
false under ``--json``; the app's page service passes true only when its terminal shows it). Before work that takes more than a few seconds it
says what it is about to do and why with ``announce``; its bars are tqdm's, which write to stderr.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


def announce(line: str, progress: bool) -> None:
    """Write ``line`` to stderr when ``progress`` is on, above any tqdm bar being drawn."""
    if progress:
        tqdm.write(line, file=sys.stderr)
