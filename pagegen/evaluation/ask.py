"""How good is "ask for a row"? Requests generated from the catalogue's own metadata, asked for sampled
users, and the asked rows measured against what each request named, whatever the numbers turn out to be.

For each sampled film three requests: "films like <film>", "<decade> <genre>" and "<genre> without
<genre>" (the film's first genre; avoided, the genre found with it most often). Per request: whether the
row is full, the share of its cards with the asked genre(s) and decade and none of the avoided genre,
and for "like" requests the share among the named film's 50 most co-watched films (Jaccard over the
training interactions: a plain neighbourhood neither EASE nor the text model defines) and the share that
shares a genre with it, beside the same user's "top picks" row as the baseline that ignores the request.
Each reader (the rules, and a model when one is asked) reads every request; its reading is also checked
against what the request was generated from. Latency is the ask alone: reading, retrieval and the page
solve, not the titles or the process start.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from pagegen.data import schema as S
from pagegen.layout import Layout
from pagegen.llm.backends import Backend
from pagegen.rows.requests import Intent
from pagegen.seeding import as_generator

if TYPE_CHECKING:
    from pagegen.serving import PageService

NEIGHBOURS = 50  # a film's most co-watched films: its neighbourhood
KINDS = ("like", "decade_genre", "genre_without")
PHRASINGS = {  # rotated over the sampled films, so the rules meet more than one way of asking
    "like": ("films like {film}", "something like {film}", "more like {film}, please"),
    "decade_genre": ("{short} {genre}", "{genre} from the {decade}", "{decade} {genre} films"),
    "genre_without": ("{genre} without {avoid}", "{genre} but no {avoid}", "{genre}, not {avoid}"),
}


@dataclass(frozen=True)
class AskCase:
    """One generated request and what it asks, in catalogue terms."""

    kind: str
    text: str
    user_id: int
    expected: Intent


@dataclass(frozen=True)
class ReaderResult:
    """One reader's figures over every request."""

    reader: str
    requests: int
    readings_right: float  # share of requests read exactly as generated (genres, avoided, years, films)
    answers_used: float  # share of requests whose reading came from the model (the rest: its rules fallback)
    model_right: float  # share read right by the model itself (an unusable answer counts as wrong)
    full_rows: float  # share of asked rows as long as their tile
    genre_precision: float  # cards with every asked genre and no avoided one, over genre requests
    decade_precision: float  # cards from the asked decade, over decade requests
    neighbour_share: float  # "like" rows: cards among the film's co-watched neighbours
    shared_genre_share: float  # "like" rows: cards sharing a genre with the film
    by_kind: dict[str, dict[str, float]]
    latency_ms_p50: float
    latency_ms_p95: float


@dataclass(frozen=True)
class AskReport:
    dataset: str
    layout: str
    films: int
    seed: int
    baseline_neighbour_share: float  # the same users' top picks row, for the "like" films
    baseline_shared_genre_share: float
    readers: tuple[ReaderResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ask_cases(service: PageService, films: int, *, seed: int = 0) -> list[AskCase]:
    """``films`` sampled films (with a year and a genre), three requests each, each for a sampled user."""
    rng = as_generator(seed)
    catalogue = service.experiment.serving.catalogue
    genres, years, titles = (catalogue[c].to_list() for c in (S.GENRES, S.YEAR, S.TITLE))
    item_ids = service.experiment.serving.item_ids
    eligible = [i for i in range(len(titles)) if years[i] and [g for g in genres[i] if g != S.UNKNOWN_GENRE]]
    chosen = rng.choice(eligible, size=min(films, len(eligible)), replace=False)
    users = service.user_ids()
    together = _genres_together(genres)
    cases = []
    for number, index in enumerate(chosen.tolist()):
        genre = next(g for g in genres[index] if g != S.UNKNOWN_GENRE)
        decade = years[index] // 10 * 10
        avoid = together[genre]
        words = {
            "film": titles[index],
            "genre": genre.lower(),
            "avoid": avoid.lower(),
            "decade": f"{decade}s",
            "short": f"{decade % 100:02d}s",
        }
        expected = {
            "like": Intent(like=(int(item_ids[index]),)),
            "decade_genre": Intent(genres=(genre,), years=(decade, decade + 9)),
            "genre_without": Intent(genres=(genre,), avoid_genres=(avoid,)),
        }
        for kind in KINDS:
            text = PHRASINGS[kind][number % len(PHRASINGS[kind])].format(**words)
            cases.append(AskCase(kind, text, int(rng.choice(users)), expected[kind]))
    return cases


def _genres_together(genres: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each genre → the genre most often found on the same films (its most natural thing to avoid)."""
    counts: dict[str, dict[str, int]] = {}
    for item in genres:
        named = [g for g in item if g != S.UNKNOWN_GENRE]
        for genre in named:
            for other in named:
                if other != genre:
                    counts.setdefault(genre, {})[other] = counts.setdefault(genre, {}).get(other, 0) + 1
    everything = sorted({g for item in genres for g in item if g != S.UNKNOWN_GENRE})
    return {
        genre: max(
            sorted(counts.get(genre, {})),
            key=lambda o: counts[genre][o],
            default=next(g for g in everything if g != genre),
        )
        for genre in everything
    }


def evaluate_ask(
    service: PageService,
    layout: Layout,
    readers: Sequence[Backend],
    *,
    films: int = 30,
    seed: int = 0,
    progress: bool = False,
) -> AskReport:
    """Every generated request asked with every reader; see the module docstring for the figures."""
    cases = ask_cases(service, films, seed=seed)
    neighbours = _neighbours(service, {c.expected.like[0] for c in cases if c.kind == "like"})
    results = [_run_reader(service, layout, reader, cases, neighbours, progress) for reader in readers]
    baseline = _baseline(service, layout, [c for c in cases if c.kind == "like"], neighbours)
    return AskReport(
        dataset=service.name,
        layout=layout.name,
        films=len(cases) // len(KINDS),
        seed=seed,
        baseline_neighbour_share=baseline[0],
        baseline_shared_genre_share=baseline[1],
        readers=tuple(results),
    )


def _run_reader(
    service: PageService,
    layout: Layout,
    reader: Backend,
    cases: Sequence[AskCase],
    neighbours: dict[int, set[int]],
    progress: bool,
) -> ReaderResult:
    facts = service.builder.facts(service.experiment.serving.item_ids.tolist())
    per_kind: dict[str, dict[str, list[float]]] = {kind: {} for kind in KINDS}
    latencies = []
    for case in tqdm(cases, desc=f"asking ({_name(reader)})", unit="request", disable=not progress):
        started = time.perf_counter()
        asked = service.ask([case.text], case.user_id, layout, reader=reader)  # as `pagegen ask` does
        latencies.append((time.perf_counter() - started) * 1000)
        row = next((r for r in asked.page.rows if r.row_id == asked.asked[0].row_id), None)
        items = [item.item_id for item in row.items] if row else []
        figures = per_kind[case.kind]
        understanding = asked.asked[0].understanding
        right, used = _same_reading(understanding.intent, case), understanding.parser != "rules"
        figures.setdefault("read_right", []).append(float(right))
        figures.setdefault("model_used", []).append(float(used))
        figures.setdefault("model_right", []).append(float(used and right))
        figures.setdefault("full", []).append(float(row is not None and len(row.items) == row.slots))
        expected = case.expected
        if expected.genres:
            figures.setdefault("genre_precision", []).append(_share([_genre_ok(facts[i], expected) for i in items]))
        if expected.years:
            first, last = expected.years
            in_years = [facts[i].year is not None and first <= facts[i].year <= last for i in items]
            figures.setdefault("decade_precision", []).append(_share(in_years))
        if expected.like:
            film = expected.like[0]
            figures.setdefault("neighbour_share", []).append(_share([i in neighbours[film] for i in items]))
            figures.setdefault("shared_genre_share", []).append(_share(_shares_genre(facts, film, items)))
    by_kind = {kind: {name: _mean(values) for name, values in figures.items()} for kind, figures in per_kind.items()}
    pooled = lambda name: _mean([v for figures in per_kind.values() for v in figures.get(name, [])])  # noqa: E731
    return ReaderResult(
        reader=_name(reader),
        requests=len(cases),
        readings_right=pooled("read_right"),
        answers_used=pooled("model_used"),
        model_right=pooled("model_right"),
        full_rows=pooled("full"),
        genre_precision=pooled("genre_precision"),
        decade_precision=pooled("decade_precision"),
        neighbour_share=pooled("neighbour_share"),
        shared_genre_share=pooled("shared_genre_share"),
        by_kind=by_kind,
        latency_ms_p50=round(float(np.percentile(latencies, 50)), 1),
        latency_ms_p95=round(float(np.percentile(latencies, 95)), 1),
    )


def _name(reader: Backend) -> str:
    return reader.name if reader.generates else "rules"


def _same_reading(intent: Intent, case: AskCase) -> bool:
    expected = case.expected
    return (intent.genres, intent.avoid_genres, intent.years, intent.like) == (
        expected.genres,
        expected.avoid_genres,
        expected.years,
        expected.like,
    )


def _genre_ok(facts: Any, expected: Intent) -> bool:
    genres = set(facts.genres)
    return set(expected.genres) <= genres and not set(expected.avoid_genres) & genres


def _share(flags: Sequence[bool]) -> float:
    """The share of true flags (0 for none: an asked row missing from the page counts as no match)."""
    return sum(flags) / len(flags) if flags else 0.0


def _shares_genre(facts: Any, film: int, items: Sequence[int]) -> list[bool]:
    return [bool(set(facts[film].genres) & set(facts[i].genres)) for i in items]


def _mean(values: Sequence[float]) -> float:
    return round(float(np.mean(values)), 4) if values else 0.0


def _neighbours(service: PageService, films: set[int]) -> dict[int, set[int]]:
    """Each film's ``NEIGHBOURS`` most co-watched films by Jaccard over the training interactions."""
    train = service.experiment.train
    matrix = train.matrix.tocsc()
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    found = {}
    for film in films:
        index = train.item_index(film)
        together = np.asarray((matrix[:, [index]].T @ matrix).todense()).ravel()
        jaccard = together / np.maximum(counts + counts[index] - together, 1)
        jaccard[index] = -1.0
        order = np.lexsort((np.arange(len(jaccard)), -jaccard))[:NEIGHBOURS]
        found[film] = {int(train.item_ids[i]) for i in order}
    return found


def _baseline(
    service: PageService, layout: Layout, cases: Sequence[AskCase], neighbours: dict[int, set[int]]
) -> tuple[float, float]:
    """The "like" figures of each case's user's top picks row: what the page shows without the request."""
    facts = service.builder.facts(service.experiment.serving.item_ids.tolist())
    shares, genres = [], []
    for case in cases:
        film = case.expected.like[0]
        picks = service.builder.top_picks(service.history(case.user_id), max(t.slots for t in layout.tiles))
        shares.append(_share([i in neighbours[film] for i in picks]))
        genres.append(_share(_shares_genre(facts, film, picks)))
    return _mean(shares), _mean(genres)


def format_ask(report: AskReport) -> str:
    """The report as a table per reader, then the baseline."""
    lines = [
        f"ask for a row on {report.dataset} ({report.layout}): {report.films} sampled films × {len(KINDS)} "
        f"requests, seed {report.seed}",
        "",
        f"{'reader':<32} {'read right':>10} {'by model':>8} {'full':>6} {'genre prec':>10} {'decade prec':>11} "
        f"{'neighbours':>10} {'same genre':>10} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for r in report.readers:
        lines.append(
            f"{r.reader:<32} {r.readings_right:>10.1%} {r.model_right:>8.1%} {r.full_rows:>6.1%} {r.genre_precision:>10.1%} "
            f"{r.decade_precision:>11.1%} {r.neighbour_share:>10.1%} {r.shared_genre_share:>10.1%} "
            f"{r.latency_ms_p50:>8.0f} {r.latency_ms_p95:>8.0f}"
        )
    lines.append(
        f"{'top picks (no request)':<32} {'':>10} {'':>8} {'':>6} {'':>10} {'':>11} "
        f"{report.baseline_neighbour_share:>10.1%} {report.baseline_shared_genre_share:>10.1%}"
    )
    for r in report.readers:
        lines.append("")
        lines.append(f"{r.reader} by kind of request:")
        for kind, figures in r.by_kind.items():
            lines.append(f"  {kind:<14} " + ", ".join(f"{name} {value:.1%}" for name, value in figures.items()))
    return "\n".join(lines)
