"""The export suite's report and its cluster estimate, from figures worked out by hand."""

import json

from pagegen.bench.export import ExportBench, ScaleRun, cluster_estimate


def _run(engine: str, workers: int, per_worker: float, start: float = 0.0, put: float = 0.0) -> ScaleRun:
    return ScaleRun(
        engine=engine, workers=workers, pages=384, seconds=30.0, pages_seconds=20.0,
        pages_per_second_per_worker=per_worker, peak_worker_mib=512.0, start_seconds=start, put_seconds=put,
        put_mib=300.0, load_seconds=5.5,
    )  # fmt: skip


def test_cluster_estimate_pays_each_workers_start_once_in_the_hour():
    # 10 pages/s a worker, 4 + 0.5 + 5.5 = 10 s to start: 10 × 3590 = 35 900 pages a worker-hour;
    # 10 M / 35 900 = 278.6 → 279 workers → 279 / 16 = 17.4 → 18 machines of 16 cores, 16 × 512 MiB = 8 GiB each.
    estimate = cluster_estimate(_run("local", 2, 10.0), _run("ray", 2, 9.0, start=4.0, put=0.5))
    assert estimate == {
        "users": 10_000_000,
        "pages_per_second_needed": 2777.8,
        "pages_per_second_per_worker": 10.0,
        "start_overhead_seconds": 10.0,
        "workers": 279,
        "cores_per_machine": 16,
        "machines": 18,
        "memory_per_machine_gib": 8.0,
    }


def test_report_names_each_figure_beside_its_target():
    runs = (_run("local", 1, 10.0), _run("local", 2, 9.5), _run("ray", 2, 9.0, start=4.0, put=0.5))
    bench = ExportBench(
        dataset="ml-100k",
        all_users=943,
        all_users_seconds={"local": 27.5, "ray": 31.2},
        same_pages_on_both_engines=True,
        scale_dataset="synth-100k",
        scale_runs=runs,
        scaling_1_to_2_workers=1.9,
        cluster_estimate=cluster_estimate(runs[1], runs[2]),
    )
    payload = json.loads(json.dumps(bench.to_dict()))
    assert payload["targets"] == {"all_users_seconds": 30, "scaling_1_to_2_workers": 1.8}
    assert payload["scale_runs"][2]["start_seconds"] == 4.0
    lines = bench.text().splitlines()
    assert lines[0] == (
        "export all 943 ml-100k pages: local 27.5 s, ray 31.2 s (target ≤ 30 s each, start-up included); "
        "same pages on both engines: yes"
    )
    assert lines[3] == (
        "synth-100k sample on ray × 2: 9.0 pages/s per worker, peak 512 MiB per worker, workers loaded in 5.5 s, "
        "Ray start-up 4.0 s, object store put 300 MiB in 0.5 s"
    )
    assert lines[4].startswith("scaling 1 → 2 workers: 1.9× (target ≥ 1.8×); 10,000,000 users in an hour need about ")
