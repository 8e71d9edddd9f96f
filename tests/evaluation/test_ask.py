"""The "ask for a row" evaluation on a small synthetic catalogue: generated requests, the rules reading
them as generated, and the figures' shape; the CLI's ``evaluate --ask`` and its bad input."""

from __future__ import annotations

import json

import pytest

from pagegen import cli
from pagegen.evaluation.ask import KINDS, _genres_together, ask_cases, evaluate_ask, format_ask
from pagegen.layout import resolve_layout
from pagegen.llm.backends import TemplateBackend


@pytest.fixture(scope="module")
def service(small_service):
    return small_service


def test_the_genre_to_avoid_is_the_one_found_with_it_most_often():
    genres = [["Drama", "War"], ["Drama", "War"], ["Drama", "Romance"], ["Romance"], ["unknown"]]
    assert _genres_together(genres) == {"Drama": "War", "War": "Drama", "Romance": "Drama"}


def test_requests_come_from_the_catalogue_three_per_film(service):
    cases = ask_cases(service, 4, seed=3)
    assert [c.kind for c in cases] == list(KINDS) * 4
    assert cases == ask_cases(service, 4, seed=3)  # seeded
    like = cases[0]
    title = service.experiment.serving.catalogue["title"][service.experiment.serving.item_index(like.expected.like[0])]
    assert like.text == f"films like {title}"
    assert cases[1].expected.years[1] - cases[1].expected.years[0] == 9 and len(cases[1].expected.genres) == 1


def test_the_rules_read_every_generated_request_as_generated(service):
    report = evaluate_ask(service, resolve_layout("default"), [TemplateBackend()], films=4, seed=3)
    (rules,) = report.readers
    assert rules.reader == "rules" and rules.requests == 12 and rules.readings_right == 1.0
    for share in (rules.full_rows, rules.genre_precision, rules.decade_precision, rules.neighbour_share):
        assert 0.0 <= share <= 1.0
    assert set(rules.by_kind) == set(KINDS) and rules.latency_ms_p50 <= rules.latency_ms_p95
    assert rules.shared_genre_share > report.baseline_shared_genre_share  # "like" rows keep to the film's genres
    text = format_ask(report)
    assert text.startswith("ask for a row on synth (Default streaming page): 4 sampled films × 3 requests")
    assert "\nrules " in text and "top picks (no request)" in text


def test_the_evaluate_ask_command(service, capsys, monkeypatch):
    monkeypatch.setenv("PAGEGEN_DATA_DIR", str(service.data_dir))
    assert (
        cli.main(["evaluate", "--ask", "--dataset", "synth", "--sample", "2", "--backend", "template", "--json"]) == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload["films"] == 2 and [r["reader"] for r in payload["readers"]] == ["rules"]
    assert cli.main(["evaluate", "--ask", "--model", "ease", "--dataset", "synth"]) == 2
    assert "--ask evaluates asked rows on the page's own models; leave out --model" in capsys.readouterr().err
    assert cli.main(["evaluate", "--dataset", "synth"]) == 2
    assert "evaluate needs --model (or --ask)" in capsys.readouterr().err
