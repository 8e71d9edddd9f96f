"""A request read by a language model: the model answers with JSON (genres, years, films it is like, what
to avoid, mood words) through the backend seam; the answer is schema-checked and every name matched to
the catalogue before it is used. The rule-based reading (``pagegen.rows.requests``) stands in whenever
the model is not asked, fails, or answers something unusable, and the answer says which reading was used.

The request is quoted into the prompt as data; whatever the model makes of an instruction inside it,
only catalogue genres, catalogue films and years come out, and a name the model made up is dropped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from pagegen.llm.backends import Backend, BackendError
from pagegen.rows.requests import YEARS, Intent, RequestVocabulary, parse_request

INTENT_BUDGET = 2.5  # seconds a model may take to read a request (the embedded model's ask stays under 3 s)
MAX_LIST = 5  # names per field kept from a model's answer
MAX_MOOD_CHARS = 20
INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "genres": {"type": "array", "items": {"type": "string"}},
        "avoid_genres": {"type": "array", "items": {"type": "string"}},
        "year_from": {"type": ["integer", "null"]},
        "year_to": {"type": ["integer", "null"]},
        "like": {"type": "array", "items": {"type": "string"}},
        "avoid_films": {"type": "array", "items": {"type": "string"}},
        "mood": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,  # every field optional: a short answer is a fast one
}
EXAMPLES = (
    ("80s horror", {"genres": ["Horror"], "year_from": 1980, "year_to": 1989}),
    ("something like Alien but funny", {"genres": ["Comedy"], "like": ["Alien"]}),
    ("a feel-good drama, no war films", {"genres": ["Drama"], "avoid_genres": ["War"], "mood": ["feel-good"]}),
)


class IntentError(ValueError):
    """A model's answer that is not a usable reading of the request; says what is wrong with it."""


@dataclass(frozen=True)
class Understanding:
    """A request's reading and who read it: ``parser`` is "rules" or the model backend's name; ``note``
    says why the rules read it when a model was asked."""

    intent: Intent
    parser: str
    note: str = ""


def intent_prompt(request: str, genres: tuple[str, ...]) -> str:
    """A few-shot prompt (small models continue examples better than they follow instructions); the
    request is a JSON string, so it stays data."""
    lines = [f"Turn each film request into JSON. Genres: {', '.join(genres)}.", ""]
    for text, fields in EXAMPLES:  # answers name only what the request says: fewer tokens to generate
        lines += [f"Request: {json.dumps(text)}", f"JSON: {json.dumps(fields, separators=(',', ':'))}", ""]
    lines += [f"Request: {json.dumps(request, ensure_ascii=False)}", "JSON:"]
    return "\n".join(lines)


def intent_from_json(answer: object, vocabulary: RequestVocabulary, request: str) -> Intent:
    """The Intent a model's JSON answer describes, every name matched to the catalogue; IntentError for an
    answer of the wrong shape. Genres and films the catalogue lacks are kept as unknown only when the
    request itself says them (what is shown is then the person's words, never the model's)."""
    if not isinstance(answer, dict):
        raise IntentError(f"expected a JSON object, got {type(answer).__name__}")
    extra = sorted(set(answer) - set(INTENT_SCHEMA["properties"]))
    if extra:
        raise IntentError(f"unexpected field(s) {', '.join(extra[:3])}")
    lists = {key: _strings(answer, key) for key in ("genres", "avoid_genres", "like", "avoid_films", "mood")}
    spoken = request.lower()
    genres, unknown_genres = _genres(lists["genres"], vocabulary)
    avoid, unknown_avoided = _genres(lists["avoid_genres"], vocabulary)
    both = sorted(set(genres) & set(avoid))
    if both:
        raise IntentError(f"it asks for and avoids {', '.join(both)}")
    like = [vocabulary.film(name) for name in lists["like"]]
    avoid_items = [vocabulary.film(name) for name in lists["avoid_films"]]
    unknown_films = [n for n, item in zip(lists["like"], like, strict=True) if item is None and n.lower() in spoken]
    moods = [m.lower() for m in lists["mood"] if m.replace("-", "").isalpha() and len(m) <= MAX_MOOD_CHARS]
    return Intent(
        genres=tuple(dict.fromkeys(genres)),
        avoid_genres=tuple(dict.fromkeys(avoid)),
        years=_years(answer.get("year_from"), answer.get("year_to")),
        like=tuple(dict.fromkeys(i for i in like if i is not None)),
        avoid_items=tuple(dict.fromkeys(i for i in avoid_items if i is not None)),
        moods=tuple(dict.fromkeys(moods)),
        unknown_genres=tuple(n for n in dict.fromkeys(unknown_genres + unknown_avoided) if n.lower() in spoken),
        unknown_films=tuple(dict.fromkeys(unknown_films)),
    )


def _strings(answer: dict[str, Any], key: str) -> list[str]:
    value = answer.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IntentError(f"{key} must be a list of strings")
    return [" ".join(v.split()) for v in value if v.strip()][:MAX_LIST]


def _genres(names: list[str], vocabulary: RequestVocabulary) -> tuple[list[str], list[str]]:
    """(catalogue genres the names mean, names that mean none)."""
    known = {g.lower(): g for g in vocabulary.genres}
    found, unknown = [], []
    for name in names:
        genre = known.get(name.lower()) or vocabulary.genre(name.lower().replace(" ", "-"))
        (found.append(genre) if genre else unknown.append(name))
    return found, unknown


def _years(first: object, last: object) -> tuple[int, int] | None:
    for value in (first, last):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise IntentError("year_from and year_to must be whole years or null")
    if first is None and last is None:
        return None
    low, high = first if first is not None else YEARS[0], last if last is not None else YEARS[1]
    if not (YEARS[0] <= low <= YEARS[1] and YEARS[0] <= high <= YEARS[1]):
        raise IntentError(f"years {first}–{last} are outside {YEARS[0]}–{YEARS[1]}")
    return (min(low, high), max(low, high))


def understand(
    request: str, vocabulary: RequestVocabulary, backend: Backend, *, budget: float = INTENT_BUDGET
) -> Understanding:
    """The request read by ``backend``'s model when it has one and answers usably, else by the rules."""
    rules = parse_request(request, vocabulary)
    if not backend.generates:
        return Understanding(rules, "rules")
    try:
        answer = backend.generate_json(
            intent_prompt(request, vocabulary.genres), INTENT_SCHEMA, deadline=time.perf_counter() + budget
        )
    except BackendError:  # its message may quote the model's text, which is never shown
        return Understanding(rules, "rules", f"{backend.name} gave no usable answer; read by rules")
    try:
        intent = intent_from_json(answer, vocabulary, request)
    except IntentError as error:
        return Understanding(rules, "rules", f"{backend.name}'s answer was unusable ({error}); read by rules")
    if not intent.understood and rules.understood:
        return Understanding(rules, "rules", f"{backend.name} understood nothing the rules did not; read by rules")
    return Understanding(intent, backend.name)
