"""The titles suite: the embedded model's second start, and a page's titles from it and from the cache."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tqdm import tqdm

from pagegen.bench.timing import Spread, spread
from pagegen.data.sources import DEFAULT_DATASET


@dataclass(frozen=True)
class TitlesBench:
    KEY: ClassVar[str] = "titles"
    TARGETS: ClassVar[dict[str, float]] = {
        "second_start_seconds": 10,
        "page_titles_ms": 2000,
        "cached_page_titles_ms": 5,
    }

    backend: str
    second_start_seconds: float
    page_titles_ms: Spread
    cached_page_titles_ms: Spread
    title_sources: dict[str, int]  # model, cache or template → titles shown
    pages: int

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "targets": dict(self.TARGETS)}

    def text(self) -> str:
        targets = self.TARGETS
        return (
            f"titles by {self.backend}: second start {self.second_start_seconds} s "
            f"(target ≤ {targets['second_start_seconds']} s); page median {self.page_titles_ms.median} ms, "
            f"p95 {self.page_titles_ms.p95} ms (target ≤ {targets['page_titles_ms']} ms); "
            f"cached p95 {self.cached_page_titles_ms.p95} ms (target ≤ {targets['cached_page_titles_ms']} ms); "
            f"sources {self.title_sources}"
        )


def bench_titles(
    data_dir: Path, dataset: str = DEFAULT_DATASET, *, users: int = 20, seed: int = 0, progress: bool = False
) -> TitlesBench:
    """The embedded model's second start, titles for a default page with it and from the cache, and how
    many shown titles came from the model."""
    from pagegen.layout import resolve_layout
    from pagegen.llm.embedded import EmbeddedBackend, prepare_embedded
    from pagegen.llm.titles import TitleCache
    from pagegen.seeding import as_generator
    from pagegen.serving import PageService

    prepare_embedded(data_dir)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from pagegen.llm.embedded import EmbeddedBackend;"
         " EmbeddedBackend(Path(sys.argv[1])).warm()", str(data_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    second_start = time.perf_counter() - started
    service = PageService(dataset, data_dir, progress=progress)
    service.title_cache = TitleCache()  # measure the model, not an earlier run's cache
    backend = EmbeddedBackend(data_dir)
    backend.warm()
    layout = resolve_layout("default")
    chosen = as_generator(seed).choice(service.user_ids(), size=min(users, len(service.user_ids())), replace=False)
    model_ms, cached_ms, sources = [], [], Counter()
    for user in tqdm(sorted(int(u) for u in chosen), desc="titling pages", unit="page", disable=not progress):
        page = service.page(user, layout, compare=False)
        titled, report = service.title(page, backend)
        model_ms.append(report.seconds * 1000)
        sources.update(row.title_source for row in titled.rows)
        cached_ms.append(service.title(page, backend)[1].seconds * 1000)
    return TitlesBench(
        backend=backend.name,
        second_start_seconds=round(second_start, 1),
        page_titles_ms=spread(model_ms),
        cached_page_titles_ms=spread(cached_ms),
        title_sources=dict(sources),
        pages=len(model_ms),
    )
