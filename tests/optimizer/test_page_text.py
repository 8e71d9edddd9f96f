"""A page as the ``pagegen page`` command prints it: rows and cards, then how the optimizer did."""

from pagegen.layout import rule_label
from pagegen.optimizer import Page, PageItem, PageRow, Relaxation, SolverReport, format_page, plain_solver_line
from pagegen.rows import RowReason


def _page(report: SolverReport, user_id: int | None = 5) -> Page:
    cards = (
        PageItem(1, "Heat", 1995, ("Action", "Crime"), 0.9, 0.8, 0.6, 0.06, 0.5, False, probability=0.04),
        PageItem(2, "Alien", 1979, ("Horror",), 0.71234, 0.7, 0.5, 0.05, 0.4, False, probability=0.02),
    )
    row = PageRow(0, "carousel", 10, None, "top", "Top picks for you", RowReason("top_picks", "ease"), cards, 1.0)
    return Page(user_id, "Default streaming page", (row,), report)


def test_rows_cards_and_the_solver():
    report = SolverReport(
        "ilp", "optimal", 30.73551, gap=0.0033, baselines={"greedy": {"objective": 30.663, "shortfall": 0.0024}},
        relaxations=(Relaxation("min_new_items", 10, 7, "too few new items"),), message="proven by the decomposition",
    )  # fmt: skip
    assert format_page(_page(report), "ml-100k", held_out=2).splitlines() == [
        "Default streaming page for user 5 on ml-100k",
        "",
        "Top picks for you  [carousel of 10, ease]",
        "  Heat (1995) — Action, Crime  [0.900]",
        "  Alien (1979) — Horror  [0.712]  ★ watched next (held out)",
        "",
        "ilp optimal, objective 30.7355, gap 0.33%",
        f"{0.5 * 0.04 + 0.4 * 0.02:.3f} expected good picks seen (cards wanted × chance they are looked at)",
        "  greedy: objective 30.6630 (0.24% below)",
        "relaxed Exploration: new items on the page (at least): asked 10, got 7 (too few new items)",
        "proven by the decomposition",
    ]


def test_a_heuristic_page_for_a_new_user_has_no_gap():
    lines = format_page(_page(SolverReport("greedy", "heuristic", 2.5), user_id=None), "synth").splitlines()
    assert lines[0] == "Default streaming page for a new user on synth"
    assert lines[-2] == "greedy heuristic, objective 2.5000" and "★" not in "".join(lines)


def test_the_dashboard_says_how_good_the_page_is_in_plain_words():
    """ "optimal" beside a gap read as a contradiction: each status in words, the gap as "within"."""
    assert plain_solver_line(SolverReport("ilp", "optimal", 1.0, gap=0.0)) == "the best possible page for these rules"
    assert plain_solver_line(SolverReport("ilp", "bounded", 1.0, gap=0.0123)) == (
        "best page found, within 1.2% of the best possible"
    )
    assert plain_solver_line(SolverReport("ilp", "limit", 1.0, gap=3.0)).endswith("is not known)")
    assert plain_solver_line(SolverReport("ilp", "unproven", 1.0)).endswith("is not known)")
    assert "heuristic" in plain_solver_line(SolverReport("mmr", "heuristic", 1.0))


def test_rules_read_in_the_sliders_words():
    assert rule_label("tiles[2].max_genre_share.Drama") == "Diversity: max genre share per row (Drama, row 3)"
    assert rule_label("max_rows_per_type.because_you_watched") == "Rows of one type (at most) (because you watched)"
    assert rule_label("fill_every_tile") == "Every tile filled"
    assert rule_label("something_new") == "something_new"  # a rule without words keeps its name
