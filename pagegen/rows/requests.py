"""What a person asks for, understood without a model: a request's genres, years, films it is like and
what to avoid, read by rules against the catalogue's own genres and titles.

The rules are the offline default and the fallback whenever a language model's reading is unusable (see
``pagegen.llm.intent``). Both end in the same ``Intent``, and both are checked against the same
``RequestVocabulary``: a genre is one the catalogue has, a film is one of its items, a year a plausible
one. Nothing in a request is ever run or used as a path: it is only matched against these lists.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pagegen.errors import PagegenError
from pagegen.vocabulary import MAX_REQUEST_CHARS

MAX_TITLE_WORDS = 12  # a film named after "like" is looked for in at most this many words
FUZZY_CUTOFF = 0.85  # how close a misspelt film name must be to a catalogue title to count as it
YEARS = (1870, 2030)  # a year outside this is not a film's year

# How people name the MovieLens genres (any release), by the genre's canonical name. The catalogue's
# own spelling wins where it differs ("Children's" in ml-100k, "Children" in the newer releases).
GENRE_FORMS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "action-packed"),
    "Adventure": ("adventure", "adventures", "adventurous"),
    "Animation": ("animation", "animated", "animations", "cartoon", "cartoons", "anime"),
    "Children's": ("children's", "children", "childrens", "kids", "kid", "family", "child"),
    "Comedy": ("comedy", "comedies", "funny", "comic", "comedic", "hilarious", "humor", "humour"),
    "Crime": ("crime", "crimes", "gangster", "gangsters", "heist", "heists", "mafia", "mob"),
    "Documentary": ("documentary", "documentaries", "docs"),
    "Drama": ("drama", "dramas", "dramatic"),
    "Fantasy": ("fantasy", "fantasies", "magical", "magic"),
    "Film-Noir": ("film-noir", "noir", "noirs"),
    "Horror": ("horror", "horrors", "scary", "spooky", "frightening", "slasher", "slashers", "creepy"),
    "IMAX": ("imax",),
    "Musical": ("musical", "musicals"),
    "Mystery": ("mystery", "mysteries", "whodunit", "whodunits", "detective"),
    "Romance": ("romance", "romances", "romantic", "romcom", "rom-com"),
    "Sci-Fi": ("sci-fi", "scifi", "science-fiction", "sf", "space", "futuristic"),
    "Thriller": ("thriller", "thrillers", "suspense", "suspenseful", "thrilling"),
    "War": ("war", "wartime"),
    "Western": ("western", "westerns", "cowboy", "cowboys"),
}
_FORMS = {form: genre for genre, forms in GENRE_FORMS.items() for form in forms}
SPELLINGS = {"Children": "Children's"}  # a catalogue's spelling → the canonical name above
PHRASES = {
    "science fiction": "science-fiction",
    "sci fi": "sci-fi",
    "film noir": "film-noir",
    "rom com": "rom-com",
}  # two words as one
# Genres people ask for that MovieLens does not have: named in the answer, never silently dropped.
OTHER_GENRES = (
    "biography", "biopic", "biopics", "sports", "sport", "superhero", "superheroes", "historical", "history",
    "teen", "christmas", "disaster", "martial-arts", "kung-fu", "zombie", "zombies", "bollywood", "k-drama",
    "erotic", "spy", "mockumentary", "satire",
)  # fmt: skip
MOODS = (
    "dark", "light", "lighthearted", "feel-good", "uplifting", "heartwarming", "sad", "tearjerker", "epic",
    "quirky", "clever", "smart", "thought-provoking", "gritty", "violent", "gentle", "cozy", "fun", "intense",
    "mind-bending", "slow", "fast-paced", "classic", "cult", "weird", "cheesy", "inspiring", "silly", "charming",
    "tense", "moving", "witty", "bleak", "hopeful", "nostalgic", "old", "recent", "short", "beautiful",
)  # fmt: skip
LIKE_CUES = ("like", "similar to", "such as", "in the vein of", "reminds me of", "along the lines of", "as good as")
AVOID_CUES = ("without", "no", "not", "except", "avoid", "minus", "nothing", "none", "never", "skip")
NOT_A_CUE_BEFORE = {"i", "i'd", "we", "we'd", "you", "they", "would", "really", "do", "don't", "also"}  # "I'd like to…"
NOT_A_CUE_AFTER = {"to", "a", "an", "some", "something", "anything", "it", "this", "that", "them", "one"}
BREAKS = {"but", "with", "like", "that", "which", "please", "for", "from", "in", "than", "though", "yet"}
DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960, "seventies": 1970,
    "eighties": 1980, "nineties": 1990,
}  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_WORD = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*'?|[,.;!?()]")


class RequestError(PagegenError):
    """A request that cannot be turned into a row (empty, or nothing the layout may show matches it)."""


@dataclass(frozen=True)
class Intent:
    """A request, understood: every name checked against the catalogue. ``unknown_*`` keep what the request
    named that the catalogue lacks, so the answer can say so."""

    genres: tuple[str, ...] = ()  # catalogue genres every item should have
    avoid_genres: tuple[str, ...] = ()  # catalogue genres no item may have
    years: tuple[int, int] | None = None  # first and last year, inclusive
    like: tuple[int, ...] = ()  # item ids of films the row should resemble
    avoid_items: tuple[int, ...] = ()  # item ids of films not to show
    moods: tuple[str, ...] = ()  # words that only steer the text match
    unknown_genres: tuple[str, ...] = ()
    unknown_films: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        """Whether anything but the words' text match steers the row."""
        return bool(self.genres or self.avoid_genres or self.years or self.like or self.avoid_items)


@dataclass(frozen=True)
class RequestVocabulary:
    """The catalogue's genres and titles, the way requests name them."""

    genres: tuple[str, ...]  # the catalogue's own genre names
    titles: Mapping[int, str]  # item id → display title, most popular first
    years: Mapping[int, int | None]  # item id → year

    @classmethod
    def of(cls, item_ids: Sequence[int], titles: Sequence[str], years: Sequence[int | None], genres: Sequence[Sequence[str]], popularity: Sequence[float]) -> RequestVocabulary:  # fmt: skip
        order = sorted(range(len(item_ids)), key=lambda i: (-popularity[i], item_ids[i]))
        known = sorted({g for item in genres for g in item if g and g != "unknown"})
        return cls(
            genres=tuple(known),
            titles={int(item_ids[i]): titles[i] for i in order},
            years={int(item_ids[i]): years[i] for i in order},
        )

    def genre(self, word: str) -> str | None:
        """The catalogue genre a word names ("funny" → "Comedy"), None when it names none."""
        canonical = _FORMS.get(word.lower())
        if canonical is None:
            return None
        return next((g for g in self.genres if SPELLINGS.get(g, g) == canonical), None)

    def names_genre(self, word: str) -> bool:
        """Whether a word names a genre at all, in this catalogue or another's."""
        return word.lower() in _FORMS or word.lower() in OTHER_GENRES

    def film(self, name: str) -> int | None:
        """The item a film name means: its title exactly (articles and punctuation aside), else the one
        title close enough to a misspelling; the most popular of equal titles."""
        key = title_key(name)
        if not key:
            return None
        keys = self.film_keys
        for exact in (title_key(name, article=True), key):
            if exact in keys:
                return keys[exact]
        close = difflib.get_close_matches(key, list(keys), n=1, cutoff=FUZZY_CUTOFF)
        return keys[close[0]] if close else None

    @property
    def film_keys(self) -> dict[str, int]:
        """Title key → item id, built once: every title's key with its leading article, then without it
        where no title has that key ("The Fear" and "Fear" are two films; "silence of the lambs" is one),
        the most popular of equal keys."""
        cached = self.__dict__.get("_key_index")
        if cached is None:
            cached = {}
            for article in (True, False):
                for item, title in self.titles.items():  # titles come most popular first
                    cached.setdefault(title_key(title, article=article), item)
            cached.pop("", None)
            object.__setattr__(self, "_key_index", cached)
        return cached


def title_key(name: str, *, article: bool = False) -> str:
    """A film name as requests and titles are compared: lower case, accents and punctuation dropped, and
    a leading article unless ``article`` ("The Silence of the Lambs" and "silence of the lambs" meet)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", text)
    if not article and words and words[0] in ("the", "a", "an") and len(words) > 1:
        words = words[1:]
    return " ".join(words)


def clean_request(text: str) -> tuple[str, str]:
    """The request as it is read: control characters removed, spaces collapsed, at most
    ``MAX_REQUEST_CHARS``; and a note when it was shortened. An empty request is a RequestError."""
    if not isinstance(text, str):
        raise RequestError(f"a request is text, got {type(text).__name__}")
    cleaned = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).split())
    if not cleaned:
        raise RequestError(
            "the request is empty: say what you would like, e.g. '80s horror' or 'films like Alien but funny'"
        )
    if len(cleaned) <= MAX_REQUEST_CHARS:
        return cleaned, ""
    short = cleaned[:MAX_REQUEST_CHARS].rsplit(" ", 1)[0] or cleaned[:MAX_REQUEST_CHARS]
    return short, f"read the first {len(short)} of its {len(cleaned)} characters"


def parse_request(text: str, vocabulary: RequestVocabulary) -> Intent:
    """The rule-based reading of a (cleaned) request: quoted or "like …" films matched to the catalogue,
    genre names and their forms, decades and years, and what follows "without", "no" or "not"."""
    words = _words(text)
    like, avoid_items, unknown_films, taken = _films(text, words, vocabulary)
    genres: list[str] = []
    avoid: list[str] = []
    unknown: list[str] = []
    moods: list[str] = []
    avoiding = 0  # words left in an "avoid" clause
    for position, word in enumerate(words):
        if position in taken:
            continue
        if word in AVOID_CUES:
            avoiding = 4
            continue
        if word in BREAKS or word in ",.;!?()":
            avoiding = 0
        genre = vocabulary.genre(word)
        if genre is not None:
            (avoid if avoiding else genres).append(genre)
        elif word in OTHER_GENRES or word in _FORMS:  # a genre, but not one of this catalogue's
            unknown.append(word)
        elif word in MOODS and not avoiding:
            moods.append(word)
        avoiding = max(avoiding - 1, 0)
    years = _years(" ".join(w for i, w in enumerate(words) if i not in taken))  # "Alien (1979)" is no year
    avoid_set = set(avoid)
    return Intent(
        genres=tuple(g for g in dict.fromkeys(genres) if g not in avoid_set),
        avoid_genres=tuple(dict.fromkeys(avoid)),
        years=years,
        like=tuple(dict.fromkeys(like)),
        avoid_items=tuple(dict.fromkeys(avoid_items)),
        moods=tuple(dict.fromkeys(moods)),
        unknown_genres=tuple(dict.fromkeys(unknown)),
        unknown_films=tuple(dict.fromkeys(unknown_films)),
    )


def _words(text: str) -> list[str]:
    lowered = text.lower().replace("–", "-").replace("—", " ")
    for phrase, joined in PHRASES.items():
        lowered = re.sub(rf"\b{phrase}\b", joined, lowered)
    return _WORD.findall(lowered.replace("’", "'"))


def _films(
    text: str, words: list[str], vocabulary: RequestVocabulary
) -> tuple[list[int], list[int], list[str], set[int]]:
    """Films the request names after a "like" cue (several, joined by "and", "or" or commas) and in
    quotes: (liked, avoided, names not in the catalogue, word positions they took)."""
    liked: list[int] = []
    avoided: list[int] = []
    unknown: list[str] = []
    taken: set[int] = set()
    keys = vocabulary.film_keys
    for quoted in re.findall(r"[\"“”«»]([^\"“”«»]{1,120})[\"“”«»]", text):
        item = vocabulary.film(quoted)
        (liked.append(item) if item is not None else unknown.append(quoted.strip()))
        quoted_words = _words(quoted)
        for start in range(len(words) - len(quoted_words) + 1):
            if words[start : start + len(quoted_words)] == quoted_words:
                taken.update(range(start, start + len(quoted_words)))
    position = 0
    while position < len(words):
        cue = _cue_at(words, position)
        if cue == 0 or position in taken or (position and words[position - 1] in NOT_A_CUE_BEFORE):
            position += 1
            continue
        avoiding = any(w in AVOID_CUES for w in words[max(0, position - 2) : position])
        position += cue
        first = True
        while position < len(words):
            length, item = _title_at(words, position, keys)
            if item is not None:
                (avoided if avoiding else liked).append(item)
                taken.update(range(position, position + length))
                position += length
                if position < len(words) and words[position] == "(":  # "Alien (1979)": the year names the film
                    close = next((p for p in range(position, min(position + 4, len(words))) if words[p] == ")"), None)
                    if close is not None:
                        taken.update(range(position, close + 1))
                        position = close + 1
            elif first and words[position] in NOT_A_CUE_AFTER:
                break  # "I'd like to…", "like a comedy": no film named
            else:
                phrase = _phrase(words, position)
                if phrase and not any(vocabulary.names_genre(w) for w in phrase):
                    item = vocabulary.film(" ".join(phrase))
                    if item is not None:
                        (avoided if avoiding else liked).append(item)
                    else:
                        unknown.append(" ".join(phrase))
                    taken.update(range(position, position + len(phrase)))
                    position += len(phrase)
                else:
                    break
            if position < len(words) and words[position] in ("and", "or", ","):
                position += 1
                first = False
                continue
            break
    return liked, avoided, unknown, taken


def _cue_at(words: list[str], position: int) -> int:
    """How many words a "like" cue takes at ``position`` (0: none)."""
    for cue in LIKE_CUES:
        parts = cue.split()
        if words[position : position + len(parts)] == parts:
            return len(parts)
    return 0


def _title_at(words: list[str], position: int, keys: Mapping[str, int]) -> tuple[int, int | None]:
    """The most words from ``position`` that spell a catalogue title, and its item (0, None: none)."""
    for length in range(min(MAX_TITLE_WORDS, len(words) - position), 0, -1):
        last = words[position + length - 1]
        if last in ",.;!?()" or (length == 1 and last in ("the", "a", "an")):
            continue
        name = " ".join(words[position : position + length])
        for key in (title_key(name, article=True), title_key(name)):
            if key in keys:
                return length, keys[key]
    return 0, None


def _phrase(words: list[str], position: int) -> list[str]:
    """The words after a "like" cue up to the next clause break: the name of a film not spelt exactly."""
    phrase = []
    for word in words[position : position + MAX_TITLE_WORDS]:
        if word in BREAKS or word in AVOID_CUES or word in ",.;!?()" or word in ("and", "or"):
            break
        phrase.append(word)
    return phrase


def _years(text: str) -> tuple[int, int] | None:
    """The years a request asks for: a range, "before"/"after" a year, a decade ("80s", "1980s",
    "eighties") or one year; None when it names none."""
    span = re.search(r"\b(1[89]\d\d|20[0-2]\d)\s*(?:-|–|to|until)\s*(1[89]\d\d|20[0-2]\d)\b", text)
    if span:
        first, last = sorted((int(span.group(1)), int(span.group(2))))
        return first, last
    before = re.search(r"\b(?:before|pre|earlier than|older than)\s*-?\s*(1[89]\d\d|20[0-2]\d)\b", text)
    if before:
        return YEARS[0], int(before.group(1)) - 1
    after = re.search(r"\b(?:after|since|post|later than|newer than)\s*-?\s*(1[89]\d\d|20[0-2]\d)\b", text)
    if after:
        return int(after.group(1)) + (0 if "since" in after.group(0) else 1), YEARS[1]
    decade = re.search(r"\b(1[89]\d0|20[0-2]0)'?s\b", text) or re.search(r"(?<![\w])'?([0-9]0)'?s\b", text)
    if decade:
        start = int(decade.group(1))
        if start < 100:
            start += 2000 if start < 30 else 1900
        return start, start + 9
    for word, start in DECADE_WORDS.items():
        if re.search(rf"\b{word}\b", text):
            return start, start + 9
    year = re.search(r"\b(1[89]\d\d|20[0-2]\d)\b", text)
    if year:
        return int(year.group(1)), int(year.group(1))
    return None


def intent_label(intent: Intent, vocabulary: RequestVocabulary) -> str:
    """A row title made of what was understood, in catalogue words only ("1980s Horror", "Comedy like
    Alien", "Drama without Romance"); empty when nothing was."""
    parts = [" & ".join(intent.genres)] if intent.genres else []
    if intent.years:
        first, last = intent.years
        if last - first == 9 and first % 10 == 0:
            parts.insert(0, f"{first}s")
        elif first == YEARS[0]:
            parts.append(f"before {last + 1}" if parts else f"Before {last + 1}")
        elif last == YEARS[1]:
            parts.append(f"after {first - 1}" if parts else f"After {first - 1}")
        else:
            parts.append(("from " if parts else "From ") + (f"{first}–{last}" if first != last else str(first)))
    if intent.like:
        names = " and ".join(vocabulary.titles[i] for i in intent.like[:2])
        parts.append(f"like {names}" if parts else f"Like {names}")
    if intent.avoid_genres:
        parts.append(
            "without " + " or ".join(intent.avoid_genres)
            if parts
            else "Anything but " + " or ".join(intent.avoid_genres)
        )
    return " ".join(parts)
