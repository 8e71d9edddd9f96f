"""Carousel titles: a language model proposes, validation disposes, the template always stands by.

A row's prompt holds only facts from its reason and items (type, anchor, dominant genres, decade, a few
item titles), quoted as data. Every answer is checked — length, no markup, no quotes, no echo of the
prompt, no film named that is not in the row, no instruction words, no word carried over from an item
title that is not also a word of the row's own vocabulary (an item title may read like an instruction),
not a repeat of another title on the page — and a failed answer gives the row its template title.
Titles are cached by the hash of model (with its server) and prompt, in memory and on disk; failures
only in memory, for a minute. A page's titles share one time budget: rows not titled in time keep the
template title, flagged, and the page says so in one notice. Titled from the cache only (``generate``
False: the dashboard, whose background titler writes the rest), a row not cached keeps its template
title, flagged as pending, and nothing is remembered for it. An asked row keeps the title its request
gave it (source "request"): it names what the person asked for, in the catalogue's words.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pagegen.files import atomic_path
from pagegen.llm.backends import Backend, BackendError
from pagegen.llm.title_rules import MAX_WORDS, REPEATS, TitleFacts, title_prompt, validate_title
from pagegen.optimizer import Page
from pagegen.vocabulary import ASKED_ROW

DEFAULT_BUDGET = 2.0  # seconds for all titles of a page
BUDGET_RESERVE = 0.3  # of the budget, kept for validation and the cache: generation stops this much earlier
# Outcomes that are not titles (no valid title contains "<"), remembered for FAILURE_MEMORY seconds
# (monotonic, in memory, never on disk): the template stands without asking again, so switching back
# to a user is instant even when the model failed the first time, yet a server that was slow, or an
# embedded model that was still loading, is asked again a minute later. A remembered failure only
# skips a request: it never replaces a cached title.
REFUSED = "<refused>"
TIMED_OUT = "<not in time>"
FAILURE_MEMORY = 60.0
LATE = "not titled within the time budget"
PENDING = "the model is still writing this title"  # titled from the cache only, before the model answered
REMEMBERED = {REFUSED: "model answer refused (remembered)", TIMED_OUT: f"{LATE} (remembered)"}


class TitleCache:
    """Titles by hash of (model, prompt), in memory and in one JSON file written atomically; failed
    outcomes (``REFUSED``, ``TIMED_OUT``) in memory only, each for ``FAILURE_MEMORY`` seconds of
    ``clock`` (a monotonic clock: what a page shows never depends on the wall clock)."""

    def __init__(
        self, path: Path | None = None, *, memory: float = FAILURE_MEMORY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = path
        self.entries: dict[str, str] = {}
        self.failures: dict[str, tuple[str, float]] = {}  # key → (outcome, when it is forgotten)
        self.memory, self.clock = memory, clock
        self._unsaved = False
        self._lock = threading.Lock()  # one cache serves every dashboard session (threads)
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {
                    k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str) and not _failed(v)
                }  # an older cache's remembered failures are not kept: they were meant for good
            except (OSError, ValueError, AttributeError):
                self.entries = {}  # an unreadable cache is only lost time, never an error

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\n{prompt}".encode()).hexdigest()

    def get(self, model: str, prompt: str) -> str | None:
        key = self.key(model, prompt)
        title = self.entries.get(key)
        if title is not None:
            return title
        with self._lock:
            outcome, until = self.failures.get(key, ("", 0.0))
            if outcome and self.clock() < until:
                return outcome
            self.failures.pop(key, None)
        return None

    def put(self, model: str, prompt: str, title: str) -> None:
        key = self.key(model, prompt)
        with self._lock:
            if _failed(title):
                if key not in self.entries:
                    self.failures[key] = (title, self.clock() + self.memory)
                return
            self.entries[key] = title
            self.failures.pop(key, None)
            self._unsaved = True

    def save(self) -> None:
        """Write the entries when something was added since the last save (a revisit writes nothing)."""
        if self.path is None or not self._unsaved:
            return
        with self._lock:
            text = json.dumps(self.entries, sort_keys=True, indent=0)
            self._unsaved = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as temporary:
            temporary.write_text(text, encoding="utf-8")


def _failed(outcome: str) -> bool:
    return outcome in REMEMBERED


@dataclass(frozen=True)
class TitleReport:
    backend: str
    seconds: float
    from_model: int
    from_cache: int
    from_template: int
    notice: str = ""  # one line for the user when the model could not be used
    pending: int = 0  # template rows whose model title is still to come (titled from the cache only)

    def to_dict(self, *, timings: bool = False) -> dict[str, object]:
        data = dataclasses.asdict(self)
        if not timings:
            del data["seconds"]
        return data


def format_titles(report: TitleReport) -> str:
    """One line: where the page's titles came from, and how long they took."""
    return (
        f"titles by {report.backend}: {report.from_model} from the model, {report.from_cache} cached, "
        f"{report.from_template} template ({report.seconds:.2f} s)"
    )


def title_page(
    page: Page,
    backend: Backend,
    *,
    cache: TitleCache | None = None,
    catalogue: Sequence[str] = (),
    budget: float = DEFAULT_BUDGET,
    generate: bool = True,
    remember_misses: bool = True,
) -> tuple[Page, TitleReport]:
    """The page with each row titled by ``backend`` where a valid answer came in time, else by its
    template (the row says which, and why). ``generate`` False takes titles from the cache only: the
    model is not asked, rows it has not titled yet are ``PENDING``, and no failure is remembered.
    Without ``remember_misses`` a row not titled in time is asked again next time (the dashboard's
    background titler: a miss there costs nobody a wait, so it is never taken as the final word)."""
    started = time.perf_counter()
    cache = cache if cache is not None else TitleCache()
    titled = [i for i, row in enumerate(page.rows) if row.reason.row_type != ASKED_ROW]
    facts = {i: TitleFacts.of(page.rows[i]) for i in titled}
    prompts = {i: title_prompt(facts[i]) for i in titled}
    answers: dict[int, tuple[str, str]] = {}  # row → (answer, source)
    for index, prompt in prompts.items():
        cached = cache.get(backend.model_name, prompt)
        if cached is not None:
            answers[index] = (cached, "cache")
    missing = [i for i in titled if i not in answers]
    notice = ""
    if missing and backend.generates and generate:
        try:
            deadline = started + budget - BUDGET_RESERVE
            titler = getattr(backend, "generate_titles", None)  # a backend that decodes from the facts
            if titler is not None:
                earlier = [answers[i][0] for i in sorted(answers)]
                generated = titler([facts[i] for i in missing], deadline=deadline, taken=earlier, catalogue=catalogue)
            else:
                generated = backend.generate([prompts[i] for i in missing], deadline=deadline, max_words=MAX_WORDS)
        except BackendError as error:
            generated, notice = (
                [None] * len(missing),
                f"{backend.name} unavailable ({_one_line(error)}); template titles shown",
            )
        for index, text in zip(missing, generated, strict=True):
            if text is not None:
                answers[index] = (text, "model")
            elif not notice and remember_misses:
                cache.put(backend.model_name, prompts[index], TIMED_OUT)
    rows, taken, counts = [], [row.title for row in page.rows if row.reason.row_type == ASKED_ROW], Counter()
    for index, row in enumerate(page.rows):
        if index not in facts:
            rows.append(dataclasses.replace(row, title_source="request", title_note=""))
            continue
        row_facts = facts[index]
        answer, source = answers.get(index, ("", "template"))
        remembered = REMEMBERED.get(answer) if source == "cache" else None
        valid = answer and not remembered
        title, why = validate_title(answer, row_facts, taken=taken, catalogue=catalogue) if valid else (None, "")
        if source == "model":
            # a title refused only as a repeat is still its row's title: cached, so the next visit asks
            # nothing and refuses it again here alone; any other refusal is remembered for a while
            own = validate_title(answer, row_facts, catalogue=catalogue)[0] if why == REPEATS else title
            cache.put(backend.model_name, prompts[index], own or REFUSED)
        if title is None:
            if source == "cache":
                why = remembered or f"model answer refused: {why}"
            elif source == "model":
                why = f"model answer refused: {why}"
            elif backend.generates and not notice:
                why = LATE if generate else PENDING
            title, source = _distinct(row_facts.template, taken), "template"
        taken.append(title)
        counts[source] += 1
        rows.append(dataclasses.replace(row, title=title, title_source=source, title_note=why))
    cache.save()
    late = sum(row.title_note.startswith(LATE) for row in rows)
    if late and not notice:
        notice = (
            f"{backend.name} did not title {late} of {len(rows)} rows within the {budget:g} s budget; "
            "template titles shown for them"
        )
    report = TitleReport(
        backend=backend.name,
        seconds=time.perf_counter() - started,
        from_model=counts["model"],
        from_cache=counts["cache"],
        from_template=counts["template"],
        notice=notice,
        pending=sum(row.title_note == PENDING for row in rows),
    )
    return dataclasses.replace(page, rows=tuple(rows)), report


def _one_line(error: Exception, limit: int = 200) -> str:
    """An error's message as one line of at most ``limit`` characters (transformers' run to paragraphs)."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _distinct(title: str, taken: Sequence[str]) -> str:
    """The template title, numbered if another row already has it (two rows of one kind)."""
    if title.lower() not in {t.lower() for t in taken}:
        return title
    number = 2
    while f"{title} ({number})".lower() in {t.lower() for t in taken}:
        number += 1
    return f"{title} ({number})"
