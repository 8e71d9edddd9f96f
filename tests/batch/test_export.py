"""The page export: one row per user, the page ``pagegen page`` shows, partitions written whole, resumed
after a kill without losing or repeating a user, and other inputs refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from pagegen import cli
from pagegen.batch.engines import EngineChoice
from pagegen.batch.export import (
    MANIFEST,
    PAGE_SCHEMA,
    ExportMismatchError,
    PageSettings,
    export_pages,
    partition_path,
    read_pages,
    select_users,
)
from pagegen.errors import ConfigError, UnknownUserError
from pagegen.layout import resolve_layout
from pagegen.llm.backends import TemplateBackend
from pagegen.optimizer import NODE_LIMIT

IN_PROCESS = EngineChoice("local", 1)


@pytest.fixture(scope="module")
def service(small_service):
    return small_service


@pytest.fixture(scope="module")
def settings():
    """Greedy pages: the export runs every optimizer the same way, and on this small catalogue the ILP
    takes seconds a page (its decomposition rarely proves a page of 120 items)."""
    return PageSettings(resolve_layout("default"), "greedy", NODE_LIMIT, "template", 2.0)


def _users(service, count: int) -> list[int]:
    return [int(u) for u in service.user_ids()[:count]]


def test_an_export_holds_each_users_page_as_pagegen_page_builds_it(service, settings, tmp_path):
    users = _users(service, 7)
    report = export_pages(service, settings, users, tmp_path / "e", engine=IN_PROCESS, batch_users=3)
    assert (report.partitions, report.written, report.already_there) == (3, 3, 0)
    assert sorted(p.name for p in (tmp_path / "e" / "pages").iterdir()) == [f"part-0000{i}.parquet" for i in range(3)]
    pages = read_pages(tmp_path / "e").collect()
    assert pages.schema == PAGE_SCHEMA
    assert pages["user_id"].to_list() == users  # partitions in order, users in order within them
    page, _ = service.title(service.page(users[4], settings.layout, optimizer="greedy"), TemplateBackend())
    exported = pages.row(4, named=True)
    assert [row["row_id"] for row in exported["rows"]] == [row.row_id for row in page.rows]
    assert [[i["item_id"] for i in row["items"]] for row in exported["rows"]] == [
        [item.item_id for item in row.items] for row in page.rows
    ]
    assert [row["title"] for row in exported["rows"]] == [row.title for row in page.rows]
    assert {row["title_source"] for row in exported["rows"]} == {"template"}
    assert exported["solver"]["objective"] == page.report.objective
    assert exported["held_out_item"] == service.experiment.held_out_item(users[4])
    assert exported["hit"] == (exported["held_out_item"] in page.item_ids)
    manifest = json.loads((tmp_path / "e" / MANIFEST).read_text())
    assert manifest["complete"] is True
    assert manifest["dataset_fingerprint"] == service.dataset.fingerprint
    assert set(manifest["models"]) == set(service.generators)
    assert (manifest["users"]["count"], manifest["partitions"], manifest["batch_users"]) == (7, 3, 3)


def test_the_same_inputs_give_the_same_bytes_and_a_rerun_writes_nothing(service, settings, tmp_path):
    users = _users(service, 5)
    export_pages(service, settings, users, tmp_path / "a", engine=IN_PROCESS, batch_users=2)
    export_pages(service, settings, users, tmp_path / "b", engine=IN_PROCESS, batch_users=2)
    for index in range(3):
        assert partition_path(tmp_path / "a", index).read_bytes() == partition_path(tmp_path / "b", index).read_bytes()
    again = export_pages(service, settings, users, tmp_path / "a", engine=IN_PROCESS, batch_users=2)
    assert (again.written, again.already_there) == (0, 3)


def test_a_missing_partition_is_rebuilt_and_the_others_kept(service, settings, tmp_path):
    users = _users(service, 6)
    out = tmp_path / "e"
    export_pages(service, settings, users, out, engine=IN_PROCESS, batch_users=2)
    kept = partition_path(out, 0).stat().st_mtime_ns
    partition_path(out, 1).unlink()
    (out / "pages" / ".part-00001.parquet.x1.tmp").write_bytes(b"half a partition")  # what a killed run leaves
    report = export_pages(service, settings, users, out, engine=IN_PROCESS, batch_users=2)
    assert (report.written, report.already_there) == (1, 2)
    assert partition_path(out, 0).stat().st_mtime_ns == kept
    assert not list((out / "pages").glob(".*.tmp"))
    assert read_pages(out).collect()["user_id"].to_list() == users


def test_an_export_of_other_inputs_is_refused_unless_forced(service, settings, tmp_path):
    users = _users(service, 4)
    out = tmp_path / "e"
    export_pages(service, settings, users, out, engine=IN_PROCESS, batch_users=2)
    other = PageSettings(resolve_layout("kids"), "greedy", NODE_LIMIT, "template", 2.0)
    with pytest.raises(ExportMismatchError, match=r"other inputs \(they differ in: layout\)"):
        export_pages(service, other, users, out, engine=IN_PROCESS, batch_users=2)
    with pytest.raises(ExportMismatchError, match="differ in: users"):
        export_pages(service, settings, users[:3], out, engine=IN_PROCESS, batch_users=2)
    assert read_pages(out).collect()["user_id"].to_list() == users  # refused: nothing lost
    export_pages(service, other, users[:3], out, engine=IN_PROCESS, batch_users=2, force=True)
    assert read_pages(out).collect()["user_id"].to_list() == users[:3]
    assert json.loads((out / MANIFEST).read_text())["layout"]["name"] == other.layout.name


def test_a_folder_that_is_not_an_export_is_never_emptied(service, settings, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ExportMismatchError, match="not empty and holds no pagegen export"):
        export_pages(service, settings, _users(service, 2), tmp_path, engine=IN_PROCESS, force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / MANIFEST).exists()


def test_users_are_all_the_first_n_or_a_file_of_ids(service, tmp_path):
    every = _users(service, 1000)
    assert select_users(service, "all") == every
    assert select_users(service, "3") == every[:3]
    listed = tmp_path / "users.txt"
    listed.write_text(f"# the class\n{every[5]}\n\n{every[2]}  # again below\n{every[5]}\n")
    assert select_users(service, str(listed)) == [every[5], every[2]]
    listed.write_text(f"{every[0]}\n999999\n")
    with pytest.raises(UnknownUserError, match="999999"):
        select_users(service, str(listed))
    listed.write_text("user 7\n")
    with pytest.raises(ConfigError, match=r"users.txt:1: expected a user id"):
        select_users(service, str(listed))
    with pytest.raises(ConfigError, match="none of these"):
        select_users(service, "everyone")


def _export_argv(service, out: Path, *extra: str) -> list[str]:
    return [
        *("--data-dir", str(service.data_dir), "pages", "export", "--dataset", service.name, "--out", str(out)),
        *("--optimizer", "greedy", *extra),
    ]


def test_an_unknown_engine_or_an_unreachable_cluster_writes_nothing(service, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(_export_argv(service, tmp_path / "e", "--engine", "spark"))
    assert exit_.value.code == 2
    assert "invalid choice: 'spark'" in capsys.readouterr().err
    pytest.importorskip("ray")
    assert cli.main(_export_argv(service, tmp_path / "e", "--engine", "ray", "--address", "127.0.0.1:9")) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("pagegen: error: cannot reach the Ray cluster at 127.0.0.1:9")
    assert len(error.splitlines()) == 1
    assert cli.main(_export_argv(service, tmp_path / "e", "--address", "127.0.0.1:9")) == 2
    assert "needs --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_the_cli_exports_and_reports_as_json(service, tmp_path, capsys):
    assert cli.main([*_export_argv(service, tmp_path / "e", "--users", "4", "--workers", "1"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["users"], report["engine"], report["workers"]) == (4, "local", 1)
    assert pl.read_parquet(tmp_path / "e" / "pages").height == 4


def test_a_killed_export_resumed_has_every_user_exactly_once(service, tmp_path):
    """Kill the export (SIGKILL, no cleanup) once some partitions are written, rerun the same command."""
    out = tmp_path / "e"
    users = _users(service, 40)
    argv = [
        sys.executable,
        "-m",
        "pagegen.cli",
        *_export_argv(service, out, "--users", "40", "--workers", "1", "--batch-users", "1"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((out / "pages").glob("part-*.parquet"))) < 3 and process.poll() is None:
        assert time.monotonic() < deadline, "the export wrote no partition in two minutes"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list((out / "pages").glob("part-*.parquet")))
    assert 3 <= written < len(users), "the kill came too late to test a resume"
    assert json.loads((out / MANIFEST).read_text())["complete"] is False
    finished = subprocess.run([*argv, "--json"], env=env, capture_output=True, text=True, check=True)
    report = json.loads(finished.stdout)
    assert report["already_there"] >= written and report["written"] == len(users) - report["already_there"]
    pages = read_pages(out).collect()
    assert sorted(pages["user_id"].to_list()) == sorted(users)
    assert pages["user_id"].n_unique() == pages.height == len(users)
    assert json.loads((out / MANIFEST).read_text())["complete"] is True
