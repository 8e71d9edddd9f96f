"""Carousel titles: a language model proposes, validation disposes, the template always stands by.

A row's prompt holds only facts from its reason and items (type, anchor, dominant genres, decade, a few
item titles), quoted as data. Every answer is checked — length, no markup, no quotes, no echo of the
prompt, no film named that is not in the row, not a repeat of another title on the page — and a
failed answer gives the row its template title. Answers are cached by the hash of model and prompt
(in memory and on disk), and a page's titles share one time budget: rows not titled in time keep
the template title, flagged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pagegen.files import atomic_path
from pagegen.llm.backends import Backend, BackendError
from pagegen.optimizer import Page, PageRow

MIN_WORDS, MAX_WORDS, MAX_CHARS = 2, 7, 60
DEFAULT_BUDGET = 2.0  # seconds for all titles of a page
BUDGET_RESERVE = 0.3  # of the budget, kept for validation and the cache: generation stops this much earlier
# Cached outcomes that are not titles (no valid title contains "<"): the template stands without asking
# again, so switching back to a user is instant even when the model failed the first time.
REFUSED = "<refused>"
TIMED_OUT = "<not in time>"
REMEMBERED = {REFUSED: "model answer refused (remembered)", TIMED_OUT: "not titled within the time budget (remembered)"}
_MARKUP = re.compile(r"[\"“”«»`*_#<>\[\]{}|\\;:=]|https?:|\n")
_PROMPT_WORDS = re.compile(r"\b(title|titles|carousel|row|prompt|instruction|instructions|genres?:|items?:)\b", re.I)

ROW_KINDS = {
    "top_picks": "the viewer's best personal matches",
    "because_you_watched": "films similar to one the viewer just watched",
    "up_next": "what the viewer is likely to watch next",
    "new_for_you": "new arrivals picked for the viewer",
    "trending": "films many people are watching right now",
    "genre": "the viewer's favourite genre",
    "hidden_gems": "lesser-known films the viewer may love",
    "explore": "a genre the viewer has not tried yet",
}


@dataclass(frozen=True)
class TitleFacts:
    """What a row's title may draw on: the facts of its reason and items, nothing else."""

    row_type: str
    anchor_title: str | None
    genres: tuple[str, ...]  # the row's theme genre first, then its items' most common genres
    decade: str | None
    item_titles: tuple[str, ...]
    template: str

    @classmethod
    def of(cls, row: PageRow) -> TitleFacts:
        counts = Counter(g for item in row.items for g in item.genres)
        genres = tuple(dict.fromkeys([*row.reason.genres, *(g for g, _ in counts.most_common(2))]))
        decades = Counter(f"{item.year // 10 * 10}s" for item in row.items if item.year)
        decade, share = decades.most_common(1)[0] if decades else (None, 0)
        return cls(
            row_type=row.reason.row_type,
            anchor_title=row.reason.anchor_title,
            genres=genres[:3],
            decade=decade if share >= len(row.items) / 2 else None,
            item_titles=tuple(item.title for item in row.items[:3]),
            template=row.title,
        )


def title_prompt(facts: TitleFacts) -> str:
    """A short one-shot prompt that a small completion model continues with one title line (prompt
    length is most of a small model's time on a CPU). The facts are quoted data, so a film title that
    reads like an instruction stays a film title."""
    return "\n".join(
        [
            'Row: like the film "Alien"; genres Sci-Fi, Horror; films "Aliens"',
            "Title: More Deep-Space Terror",
            "",
            f"Row: {_describe(facts)}",
            "Title:",
        ]
    )


def _describe(facts: TitleFacts) -> str:
    parts = [f"like the film {json.dumps(facts.anchor_title)}" if facts.anchor_title else ROW_KINDS[facts.row_type]]
    if facts.genres:
        parts.append(f"genres {', '.join(facts.genres)}")
    if facts.decade:
        parts.append(facts.decade)
    if facts.item_titles:
        parts.append("films " + ", ".join(json.dumps(t) for t in facts.item_titles[:1]))
    return "; ".join(parts)


GENRE_NAMES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip

# Words that tie a title to its row when no genre, decade or anchor word appears in it.
ROW_WORDS = {
    "top_picks": ("pick", "for you", "top", "best"),
    "because_you_watched": ("more", "like", "if you"),
    "up_next": ("next", "continue", "keep"),
    "new_for_you": ("new", "fresh", "arrival"),
    "trending": ("trend", "popular", "now", "everyone", "hot"),
    "genre": ("for you", "favourite", "favorite"),
    "hidden_gems": ("gem", "hidden", "under", "overlooked"),
    "explore": ("explore", "discover", "try", "new"),
}


def _mentions(text: str, genre: str) -> bool:
    """Whether ``text`` names ``genre`` (or a form of it: "Comedies", "Romantic", "Thrillers")."""
    stem = genre.lower()[:5]
    return re.search(rf"\b{re.escape(stem)}" + (r"\b" if len(genre) <= 5 else ""), text.lower()) is not None


def _grounded(text: str, facts: TitleFacts) -> bool:
    """Whether a title says something its row is about: a genre, the anchor film, or a word of its
    row type (a decade alone is not enough: "The 1990s" fits any row)."""
    lowered = text.lower()
    stems = [g.lower()[:5] for g in facts.genres] + list(ROW_WORDS[facts.row_type])
    if facts.anchor_title:
        stems += [w.lower() for w in re.findall(r"[\w']{4,}", facts.anchor_title)]
    return any(stem in lowered for stem in stems)


def validate_title(
    answer: str, facts: TitleFacts, *, taken: Iterable[str] = (), catalogue: Iterable[str] = ()
) -> tuple[str | None, str]:
    """The cleaned title, or None and the reason it was refused."""
    text = answer.strip().split("\n", 1)[0].strip() if answer.strip() else ""
    text = text.removeprefix("Title:").strip().rstrip(".")
    if not text:
        return None, "empty answer"
    if _MARKUP.search(text) or text[0] in "'‘" or text[-1] in "'’":
        return None, "markup or quotes"
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or len(text) > MAX_CHARS:
        return None, f"{len(words)} words, {len(text)} characters"
    numbers = set(re.findall(r"\d+", text)) - set(re.findall(r"\d+", f"{facts.decade} {facts.anchor_title}"))
    if numbers:
        return None, f"a number not in its facts ({', '.join(sorted(numbers))})"
    allowed = {t.lower() for t in (*facts.item_titles, facts.anchor_title or "")}
    lowered = f" {text.lower()} "
    for title in catalogue:
        name = title.lower()
        if len(name) >= 5 and name not in allowed and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
            return None, f"names a film not in the row ({title})"
    foreign = [g for g in GENRE_NAMES if _mentions(text, g) and not any(f.startswith(g) for f in facts.genres)]
    if foreign:
        return None, f"names a genre its row is not about ({foreign[0]})"
    if _PROMPT_WORDS.search(text) or text.lower() in title_prompt(facts).lower().replace('"', ""):
        return None, "echoes the prompt"
    if text.lower() in {t.lower() for t in taken}:
        return None, "repeats another title on the page"
    if not _grounded(text, facts):
        return None, "says nothing its row is about"
    return text, ""


class TitleCache:
    """Titles by hash of (model, prompt), in memory and in one JSON file written atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.entries: dict[str, str] = {}
        self._unsaved = False
        self._lock = threading.Lock()  # one cache serves every dashboard session (threads)
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.entries = {k: v for k, v in loaded.items() if isinstance(k, str) and isinstance(v, str)}
            except (OSError, ValueError):
                self.entries = {}  # an unreadable cache is only lost time, never an error

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\n{prompt}".encode()).hexdigest()

    def get(self, model: str, prompt: str) -> str | None:
        return self.entries.get(self.key(model, prompt))

    def put(self, model: str, prompt: str, title: str) -> None:
        with self._lock:
            self.entries[self.key(model, prompt)] = title
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


@dataclass(frozen=True)
class TitleReport:
    backend: str
    seconds: float
    from_model: int
    from_cache: int
    from_template: int
    notice: str = ""  # one line for the user when the model could not be used

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
) -> tuple[Page, TitleReport]:
    """The page with each row titled by ``backend`` where a valid answer came in time, else by its
    template (the row says which, and why)."""
    started = time.perf_counter()
    cache = cache if cache is not None else TitleCache()
    facts = [TitleFacts.of(row) for row in page.rows]
    prompts = [title_prompt(f) for f in facts]
    answers: dict[int, tuple[str, str]] = {}  # row → (answer, source)
    for index, prompt in enumerate(prompts):
        cached = cache.get(backend.model_name, prompt)
        if cached is not None:
            answers[index] = (cached, "cache")
    missing = [i for i in range(len(prompts)) if i not in answers]
    notice = ""
    if missing and backend.generates:
        try:
            deadline = started + budget - BUDGET_RESERVE
            titler = getattr(backend, "generate_titles", None)  # a backend that decodes from the facts
            if titler is not None:
                earlier = [answers[i][0] for i in sorted(answers)]
                generated = titler([facts[i] for i in missing], deadline=deadline, taken=earlier, catalogue=catalogue)
            else:
                generated = backend.generate([prompts[i] for i in missing], deadline=deadline, max_words=MAX_WORDS)
        except BackendError as error:
            generated, notice = [None] * len(missing), f"{backend.name} unavailable ({error}); template titles shown"
        for index, text in zip(missing, generated, strict=True):
            if text is not None:
                answers[index] = (text, "model")
            elif not notice:
                cache.put(backend.model_name, prompts[index], TIMED_OUT)
    rows, taken, counts = [], [], Counter()
    for index, (row, row_facts) in enumerate(zip(page.rows, facts, strict=True)):
        answer, source = answers.get(index, ("", "template"))
        remembered = REMEMBERED.get(answer) if source == "cache" else None
        valid = answer and not remembered
        title, why = validate_title(answer, row_facts, taken=taken, catalogue=catalogue) if valid else (None, "")
        if source == "model" and (title is not None or why != "repeats another title on the page"):
            cache.put(backend.model_name, prompts[index], title or REFUSED)  # a refusal is kept too
        if title is None:
            if source == "cache":
                why = remembered or f"model answer refused: {why}"
            elif source == "model":
                why = f"model answer refused: {why}"
            elif backend.generates and not notice:
                why = "not titled within the time budget"
            title, source = _distinct(row_facts.template, taken), "template"
        taken.append(title)
        counts[source] += 1
        rows.append(dataclasses.replace(row, title=title, title_source=source, title_note=why))
    cache.save()
    report = TitleReport(
        backend=backend.name,
        seconds=time.perf_counter() - started,
        from_model=counts["model"],
        from_cache=counts["cache"],
        from_template=counts["template"],
        notice=notice,
    )
    return dataclasses.replace(page, rows=tuple(rows)), report


def _distinct(title: str, taken: Sequence[str]) -> str:
    """The template title, numbered if another row already has it (two rows of one kind)."""
    if title.lower() not in {t.lower() for t in taken}:
        return title
    number = 2
    while f"{title} ({number})".lower() in {t.lower() for t in taken}:
        number += 1
    return f"{title} ({number})"
