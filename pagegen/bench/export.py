"""The export suite: every user's page on both engines, and how the export scales.

Two parts. Every user of ``dataset`` (ml-100k: 943) is exported by ``pagegen pages export`` in a fresh
process on each engine, timed from the command's start to its exit (start-up, model loading and Ray's
cluster included), and the two exports' partitions are compared byte for byte. Then a sample of a large
synthetic dataset's users is exported in this process on 1 and on 2 local workers (pages a second per
worker once the workers are ready, and the scaling between them), and on Ray (its start-up, the object
store's put and the actors' loading, measured apart). From those figures: how many workers, and machines,
export ``TARGET_USERS_PER_HOUR`` pages in an hour.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pagegen.batch.engines import EngineChoice
from pagegen.data.sources import DEFAULT_DATASET
from pagegen.errors import PagegenError
from pagegen.progress import announce
from pagegen.vocabulary import DEFAULT_OPTIMIZER

SCALE_DATASET = "synth-100k"
SCALE_SHAPE = {"users": 100_000, "items": 20_000, "interactions": 5_000_000}
SCALE_SAMPLE_USERS = 384  # pages per run at scale: enough batches that two workers stay busy to the end
SCALE_BATCH_USERS = 32
TARGET_USERS_PER_HOUR = 10_000_000
CORES_PER_MACHINE = 16  # the machine size the cluster estimate counts in (a worker per core)


@dataclass(frozen=True)
class ScaleRun:
    """One export of the scale sample: its engine and workers, and what it measured."""

    engine: str
    workers: int
    pages: int
    seconds: float  # start-up included
    pages_seconds: float  # once every worker was ready
    pages_per_second_per_worker: float
    peak_worker_mib: float
    start_seconds: float  # Ray's cluster start (0 for local processes)
    put_seconds: float  # models and data into Ray's object store
    put_mib: float
    load_seconds: float  # the workers loading the models (in parallel)


@dataclass(frozen=True)
class ExportBench:
    KEY: ClassVar[str] = "export"
    TARGETS: ClassVar[dict[str, float]] = {
        "all_users_seconds": 30,  # every ml-100k user's page, each engine, 2 cores, start-up included
        "scaling_1_to_2_workers": 1.8,
    }

    dataset: str
    all_users: int
    all_users_seconds: dict[str, float]  # engine → the export command's wall time
    same_pages_on_both_engines: bool
    scale_dataset: str
    scale_runs: tuple[ScaleRun, ...]
    scaling_1_to_2_workers: float
    cluster_estimate: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "targets": dict(self.TARGETS)}

    def text(self) -> str:
        target, estimate = self.TARGETS, self.cluster_estimate
        lines = [
            f"export all {self.all_users} {self.dataset} pages: "
            + ", ".join(f"{engine} {seconds} s" for engine, seconds in self.all_users_seconds.items())
            + f" (target ≤ {target['all_users_seconds']} s each, start-up included); same pages on both engines: "
            + ("yes" if self.same_pages_on_both_engines else "NO")
        ]
        lines += [
            f"{self.scale_dataset} sample on {run.engine} × {run.workers}: {run.pages_per_second_per_worker} pages/s "
            f"per worker, peak {run.peak_worker_mib:.0f} MiB per worker, workers loaded in {run.load_seconds} s"
            + (
                f", Ray start-up {run.start_seconds} s, object store put {run.put_mib:.0f} MiB in {run.put_seconds} s"
                if run.engine == "ray"
                else ""
            )
            for run in self.scale_runs
        ]
        lines.append(
            f"scaling 1 → 2 workers: {self.scaling_1_to_2_workers}× (target ≥ {target['scaling_1_to_2_workers']}×); "
            f"{estimate['users']:,} users in an hour need about {estimate['workers']} workers "
            f"({estimate['machines']} machines of {estimate['cores_per_machine']} cores)"
        )
        return "\n".join(lines)


def bench_export(
    data_dir: Path,
    dataset: str = DEFAULT_DATASET,
    *,
    scale_dataset: str = SCALE_DATASET,
    progress: bool = False,
) -> ExportBench:
    """Export every user of ``dataset`` on both engines, then the scale runs (see the module's docstring);
    ``scale_dataset`` is synthesized and its generators trained on first use (once, many minutes)."""
    from pagegen.batch.export import partition_path, read_manifest

    with tempfile.TemporaryDirectory(prefix="pagegen-bench-export-") as scratch:
        seconds, outs = {}, {}
        for engine in ("local", "ray"):
            outs[engine] = Path(scratch) / engine
            announce(
                f"exporting every {dataset} page on {engine} with 2 workers, timed from the command's start", progress
            )
            seconds[engine] = _timed_export(data_dir, dataset, engine, outs[engine])
        manifest = read_manifest(outs["local"])
        assert manifest is not None  # the command succeeded, so its manifest is there
        parts = [partition_path(outs["local"], i).name for i in range(manifest["partitions"])]
        same = all(
            (outs["local"] / "pages" / part).read_bytes() == (outs["ray"] / "pages" / part).read_bytes()
            for part in parts
        )
        runs = _scale_runs(data_dir, scale_dataset, Path(scratch) / "scale", progress)
    one, two = runs[0], runs[1]
    scaling = round(two.pages_per_second_per_worker * two.workers / (one.pages_per_second_per_worker * one.workers), 2)
    return ExportBench(
        dataset=dataset,
        all_users=manifest["users"]["count"],
        all_users_seconds=seconds,
        same_pages_on_both_engines=same,
        scale_dataset=scale_dataset,
        scale_runs=tuple(runs),
        scaling_1_to_2_workers=scaling,
        cluster_estimate=cluster_estimate(two, runs[2]),
    )


def _timed_export(data_dir: Path, dataset: str, engine: str, out: Path) -> float:
    command = [
        sys.executable, "-m", "pagegen.cli", "--data-dir", str(data_dir), "pages", "export", "--json",
        "--dataset", dataset, "--engine", engine, "--workers", "2", "--out", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        raise PagegenError(f"export on {engine} failed: {result.stderr.strip().splitlines()[-1:]}")
    json.loads(result.stdout)  # the command's report: proof it finished
    return seconds


def _scale_runs(data_dir: Path, dataset: str, scratch: Path, progress: bool) -> list[ScaleRun]:
    """The scale sample on 1 and 2 local workers, then on 2 Ray actors, one after another."""
    from pagegen.batch.export import PageSettings, export_pages
    from pagegen.layout import resolve_layout
    from pagegen.optimizer import NODE_LIMIT
    from pagegen.serving import PageService

    _prepare_scale_dataset(data_dir, dataset, progress)
    service = PageService(dataset, data_dir, progress=progress)  # trains what is missing, once
    users = [int(u) for u in service.user_ids()[:SCALE_SAMPLE_USERS]]
    settings = PageSettings(resolve_layout("default"), DEFAULT_OPTIMIZER, NODE_LIMIT, "template", 1.0)
    runs = []
    for engine in (EngineChoice("local", 1), EngineChoice("local", 2), EngineChoice("ray", 2)):
        announce(f"exporting {len(users)} {dataset} pages on {engine.name} with {engine.workers} workers", progress)
        report = export_pages(
            service,
            settings,
            users,
            scratch / f"{engine.name}-{engine.workers}",
            engine=engine,
            batch_users=SCALE_BATCH_USERS,
            progress=progress,
        )
        start = report.start
        runs.append(
            ScaleRun(
                engine=report.engine,
                workers=report.workers,
                pages=report.users,
                seconds=report.seconds,
                pages_seconds=report.pages_seconds,
                pages_per_second_per_worker=round(report.users / report.pages_seconds / report.workers, 2),
                peak_worker_mib=round(max(report.worker_peak_bytes.values()) / 2**20, 1),
                start_seconds=round(start.start_seconds, 2),
                put_seconds=round(start.put_seconds, 3),
                put_mib=round(start.put_bytes / 2**20, 1),
                load_seconds=round(start.load_seconds, 2),
            )
        )
    return runs


def _prepare_scale_dataset(data_dir: Path, dataset: str, progress: bool) -> None:
    from pagegen import data

    if dataset in data.prepared_datasets(data_dir):
        return
    announce(
        f"preparing {dataset} ({SCALE_SHAPE['users']:,} users × {SCALE_SHAPE['items']:,} items × "
        f"{SCALE_SHAPE['interactions']:,} interactions) to measure the export at scale; its generators train "
        "next, once",
        progress,
    )
    tables = data.synthesize(data.SynthConfig(**SCALE_SHAPE))
    data.write_dataset(data_dir, dataset, tables, source=f"synthetic ({SCALE_SHAPE}, seed=0) for the export bench")


def cluster_estimate(local: ScaleRun, ray: ScaleRun) -> dict[str, Any]:
    """Workers and machines that export ``TARGET_USERS_PER_HOUR`` pages in an hour at ``local``'s pace per
    worker, each worker first paying Ray's start-up, the object store's put and its own load once."""
    per_worker = local.pages_per_second_per_worker
    overhead = ray.start_seconds + ray.put_seconds + ray.load_seconds
    pages_per_worker_hour = per_worker * max(3600 - overhead, 0)
    workers = math.ceil(TARGET_USERS_PER_HOUR / pages_per_worker_hour)
    return {
        "users": TARGET_USERS_PER_HOUR,
        "pages_per_second_needed": round(TARGET_USERS_PER_HOUR / 3600, 1),
        "pages_per_second_per_worker": per_worker,
        "start_overhead_seconds": round(overhead, 1),
        "workers": workers,
        "cores_per_machine": CORES_PER_MACHINE,
        "machines": math.ceil(workers / CORES_PER_MACHINE),
        "memory_per_machine_gib": round(CORES_PER_MACHINE * local.peak_worker_mib / 1024, 1),
    }
