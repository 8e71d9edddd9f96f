"""``pagegen bench``'s report: the suites asked for, run in order, each printed as JSON or as text.

Each suite's result holds its own targets (``TARGETS`` or ``TARGET_…``), so the JSON and the text
read them from one place. The suites are imported as they run: the pages suite loads the solver,
the titles suite the language model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol


class SuiteResult(Protocol):
    KEY: ClassVar[str]  # its name in the JSON

    def to_dict(self) -> dict[str, Any]: ...

    def text(self) -> str: ...


@dataclass(frozen=True)
class BenchReport:
    results: tuple[SuiteResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {result.KEY: result.to_dict() for result in self.results}


def format_bench(report: BenchReport) -> str:
    """A line or two per suite: each figure beside its target."""
    return "\n".join(result.text() for result in report.results)


def run_bench(
    suites: Sequence[str],
    data_dir: Path,
    dataset: str,
    *,
    synth_users: int,
    synth_items: int,
    synth_interactions: int,
    title_users: int,
    title_backend: str,
    progress: bool = False,
) -> BenchReport:
    """Run the named suites (of ``vocabulary.BENCH_SUITES``) in their fixed order; ``dataset`` is the
    one the generator, page, title and app suites use (the data suite prepares the default release);
    the titles suite titles ``title_users`` pages with the backend named ``title_backend``."""
    results: list[SuiteResult] = []
    if "data" in suites:
        from pagegen.bench.data import bench_fetch, bench_synth

        results.append(bench_fetch(data_dir))
        results.append(bench_synth(users=synth_users, items=synth_items, interactions=synth_interactions))
    if "generators" in suites:
        from pagegen.bench.generators import bench_generators

        results.append(bench_generators(data_dir, dataset, progress=progress))
    if "pages" in suites:
        from pagegen.bench.pages import bench_pages

        results.append(bench_pages(data_dir, dataset, progress=progress))
    if "titles" in suites:
        from pagegen.bench.titles import bench_titles
        from pagegen.llm.registry import make_backend

        backend = make_backend(title_backend, data_dir=data_dir)
        results.append(bench_titles(data_dir, dataset, backend=backend, users=title_users, progress=progress))
    if "app" in suites:
        from pagegen.bench.app import bench_app

        results.append(bench_app(data_dir, dataset))
    if "export" in suites:
        from pagegen.bench.export import bench_export

        results.append(bench_export(data_dir, dataset, progress=progress))
    return BenchReport(tuple(results))
