"""The titles suite on a small synthetic dataset: a backend passed in is the one measured (a fake that
writes titles from the facts, so no model runs), and `pagegen bench --suite titles --json` holds the
quality figures and their targets (on the template backend, which needs no model either)."""

from __future__ import annotations

import json

import pytest

from pagegen import cli
from pagegen.bench.titles import TitlesBench, bench_titles
from tests.factories import synthetic_service


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return synthetic_service(tmp_path_factory.mktemp("titles-bench"), items=120)


class FactsTitler:
    """Writes "More Like <anchor>" or "<genre> for You" at once: a backend with a facts decoder."""

    name = model_name = "facts-titler"
    generates = True

    def warm(self) -> None:
        return None

    def generate_titles(self, facts, *, deadline, taken, catalogue):
        return [f"More Like {f.anchor_title}" if f.anchor_title else f"{f.genres[0]} for You" for f in facts]


def test_the_backend_passed_in_is_measured(service):
    result = bench_titles(service.data_dir, "synth", backend=FactsTitler(), users=3)
    assert (result.backend, result.pages, result.second_start_seconds) == ("facts-titler", 3, None)
    quality = result.quality
    assert quality.pages == 3 and quality.rows == sum(result.title_sources.values())
    assert quality.model_rows == result.title_sources.get("model", 0) + result.title_sources.get("cache", 0) > 0
    written = [sample.model for sample in quality.samples]
    assert written and all(title.startswith("More Like ") or title.endswith(" for You") for title in written)
    assert quality.pages_with_repeats == 0 and quality.names_anchor.share == 1.0 and quality.names_anchor.rows > 0
    assert result.text().splitlines()[1].startswith(f"title quality over {quality.rows} rows of 3 pages: ")


def test_the_cli_json_holds_the_quality_figures_and_their_targets(service, capsys, monkeypatch):
    monkeypatch.setenv("PAGEGEN_DATA_DIR", str(service.data_dir))
    argv = ["bench", "--suite", "titles", "--dataset", "synth", "--title-users", "2", "--title-backend", "template"]
    assert cli.main([*argv, "--json"]) == 0
    titles = json.loads(capsys.readouterr().out)["titles"]
    assert (titles["backend"], titles["pages"], titles["second_start_seconds"]) == ("template", 2, None)
    assert set(titles["quality"]) == {
        "pages", "rows", "model_rows", "distinct_rows", "model_share", "valid_share", "invalid_from_model", "invalid",
        "pages_with_repeats", "distinct_share", "names_anchor", "names_genre", "stock_phrase_share", "stock_phrases",
        "samples",
    }  # fmt: skip
    assert titles["quality"]["model_share"] == 0.0 and titles["quality"]["names_anchor"] == {"rows": 0, "share": None}
    assert titles["targets"] == TitlesBench.TARGETS and titles["targets"]["stock_phrase_share"] == 0.05
    assert set(TitlesBench.TARGETS) - {"second_start_seconds", "page_titles_ms", "cached_page_titles_ms"} <= set(
        titles["quality"]
    )  # every quality target names a figure of the report
