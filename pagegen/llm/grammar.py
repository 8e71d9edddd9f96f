"""The phrases a carousel title may be: a small grammar per row type, filled with the row's own facts.

The embedded model is too small to be trusted with free text (left to itself it echoes its prompt or
strings words together: "A Unforgettable Unforgettable One Flew Over"). So its titles are spelled
inside a grammar: every row type has its patterns ("If You Liked {anchor}", "{quality} {genres} for
You", "Trending {genres}"), filled with the row's genres (in their noun and adjective forms), its
decade, its anchor film's name and quality words that suit its genre. The model chooses the pattern
and every word (``pagegen.llm.decoding``); the grammar makes sure that what it chooses is a title of
that row: a "because you watched" title always names its film, a genre or explore title its genre.

Every phrase is within validation's limits by construction; ``validate_title`` still checks the one
shown (an anchor film's own name can, for instance, read like an instruction).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from pagegen.llm.title_rules import GENRE_NAMES, MAX_CHARS, MAX_WORDS, TitleFacts, film_name, mentions

# Per genre: the forms that stand for it as a noun ("Comedies") and that qualify another genre's noun
# ("Romantic Comedies"); every form names its genre for the validator (``mentions``).
GENRE_NOUNS: dict[str, tuple[str, ...]] = {
    "Action": ("Action", "Action Films", "Action Movies"),
    "Adventure": ("Adventures", "Adventure Films"),
    "Animation": ("Animated Films", "Animation", "Animated Movies"),
    "Children's": ("Family Films", "Family Movies", "Films for Kids"),
    "Comedy": ("Comedies", "Comedy", "Comedy Films"),
    "Crime": ("Crime Films", "Crime Stories", "Crime Movies"),
    "Documentary": ("Documentaries", "Documentary Films"),
    "Drama": ("Dramas", "Drama", "Drama Films"),
    "Fantasy": ("Fantasy", "Fantasy Films", "Fantasy Tales"),
    "Film-Noir": ("Film-Noir", "Noir Films", "Noir"),
    "Horror": ("Horror", "Horror Films", "Horror Movies"),
    "Musical": ("Musicals", "Musical Films"),
    "Mystery": ("Mysteries", "Mystery Films", "Mystery Stories"),
    "Romance": ("Romances", "Romance", "Romantic Films", "Romantic Stories"),
    "Sci-Fi": ("Sci-Fi", "Sci-Fi Films", "Sci-Fi Movies"),
    "Thriller": ("Thrillers", "Thriller Films"),
    "War": ("War Films", "War Stories", "War Movies"),
    "Western": ("Westerns", "Western Films"),
}
GENRE_ADJECTIVES: dict[str, str] = {
    "Action": "Action",
    "Adventure": "Adventure",
    "Animation": "Animated",
    "Children's": "Family",
    "Comedy": "Comedy",
    "Crime": "Crime",
    "Documentary": "Documentary",
    "Drama": "Dramatic",
    "Fantasy": "Fantasy",
    "Film-Noir": "Noir",
    "Horror": "Horror",
    "Musical": "Musical",
    "Mystery": "Mystery",
    "Romance": "Romantic",
    "Sci-Fi": "Sci-Fi",
    "Thriller": "Thriller",
    "War": "War",
    "Western": "Western",
}
# The single-word nouns another genre's adjective may qualify ("Romantic Comedies", "Crime Dramas").
PLURALS = {"Adventure": "Adventures", "Comedy": "Comedies", "Drama": "Dramas", "Mystery": "Mysteries",
            "Thriller": "Thrillers", "Western": "Westerns", "Musical": "Musicals", "Romance": "Romances"}  # fmt: skip

# Quality words: for any row, and those that suit a genre (the row's first).
QUALITY = ("Classic", "Timeless", "Acclaimed", "Beloved", "Essential", "Great", "Must-See", "Standout", "Memorable")
GENRE_QUALITY: dict[str, tuple[str, ...]] = {
    "Action": ("Explosive", "High-Octane", "Thrilling"),
    "Adventure": ("Epic", "Daring", "Sweeping"),
    "Animation": ("Charming", "Colorful", "Delightful"),
    "Children's": ("Charming", "Delightful", "Heartwarming"),
    "Comedy": ("Feel-Good", "Hilarious", "Witty"),
    "Crime": ("Gritty", "Hard-Boiled", "Gripping"),
    "Documentary": ("Eye-Opening", "Fascinating", "Revealing"),
    "Drama": ("Moving", "Powerful", "Heartfelt"),
    "Fantasy": ("Magical", "Enchanting", "Epic"),
    "Film-Noir": ("Shadowy", "Hard-Boiled", "Moody"),
    "Horror": ("Chilling", "Spine-Tingling", "Terrifying"),
    "Musical": ("Toe-Tapping", "Joyful", "Show-Stopping"),
    "Mystery": ("Puzzling", "Intriguing", "Baffling"),
    "Romance": ("Heartfelt", "Swoon-Worthy", "Tender"),
    "Sci-Fi": ("Mind-Bending", "Visionary", "Otherworldly"),
    "Thriller": ("Gripping", "Tense", "Edge-of-Your-Seat"),
    "War": ("Harrowing", "Heroic", "Stirring"),
    "Western": ("Rugged", "Dusty", "Frontier"),
}

# Patterns per row type. {genres}: a noun form of the row's genres ("Comedies", "Romantic Comedies");
# {quality}: a quality word; {anchor}: the anchor film's name. Any pattern may take the decade: "… of
# the 1990s" and "… from the 1990s" after a pattern's genres, "1990s {genres} …" before them.
PATTERNS: dict[str, tuple[str, ...]] = {
    "top_picks": (
        "Top {genres} for You", "Your Top {genres}", "{quality} {genres} Picked for You", "{genres} Matched to You",
        "Handpicked {genres}", "Best {genres} for You", "{quality} {genres} for You", "Top Picks in {genres}",
        "Your Personal {genres} Picks", "{genres} Chosen for You",
    ),
    "because_you_watched": (
        "More Like {anchor}", "If You Liked {anchor}", "Because You Watched {anchor}", "Films Like {anchor}",
        "For Fans of {anchor}", "In the Spirit of {anchor}", "Inspired by {anchor}", "Similar to {anchor}",
        "Echoes of {anchor}", "After {anchor}", "{genres} Like {anchor}", "More {genres} Like {anchor}",
        "Loved {anchor} Then Try These", "Next After {anchor}", "Picked Because of {anchor}",
    ),
    "up_next": (
        "Up Next {genres}", "Your Next {genres}", "{genres} to Watch Next", "Keep Watching {genres}",
        "Next Up {quality} {genres}", "Continue With {genres}", "{quality} {genres} in Your Queue", "Queued Up {genres}",
    ),
    "new_for_you": (
        "New {genres} for You", "Just Added {genres}", "New Arrivals in {genres}",
        "Brand-New {quality} {genres}", "Newly Added {genres}",
    ),
    "trending": (
        "Trending {genres}", "{genres} Trending Now", "Popular {genres} Right Now", "{genres} Everyone Is Watching",
        "Hot {genres} This Week", "Popular {genres}", "Crowd-Pleasing {genres}", "Trending {quality} {genres}",
        "Most Popular {genres}", "{genres} People Love Now",
    ),
    "genre": (
        "{quality} {genres}", "{quality} {genres} for You", "Your Favorite {genres}", "{genres} You Will Love",
        "Pure {genres}", "More {genres} for You", "{genres} Worth Watching",
        "A Night of {quality} {genres}", "{genres} at Their Best",
    ),
    "hidden_gems": (
        "Hidden {genres} Gems", "Hidden Gems in {genres}", "Underrated {genres}", "Overlooked {quality} {genres}",
        "{genres} Under the Radar", "Lesser-Known {genres}", "{quality} {genres} You Missed",
    ),
    "explore": (
        "Explore {genres}", "Discover {quality} {genres}", "Venture Into {genres}", "Something New {genres}",
        "Step Into {quality} {genres}", "Discover {genres}", "First Taste of {genres}", "Explore {quality} {genres}",
        "Try {quality} {genres}",
    ),
}  # fmt: skip


def genre_phrases(genres: tuple[str, ...]) -> list[str]:
    """The noun phrases for the row's first genre, alone or qualified by another of its genres."""
    if not genres or genres[0] not in GENRE_NOUNS:
        return []
    first, others = genres[0], [g for g in genres[1:] if g in GENRE_ADJECTIVES]
    phrases = list(GENRE_NOUNS[first])
    if first in PLURALS:
        phrases += [f"{GENRE_ADJECTIVES[g]} {PLURALS[first]}" for g in others if GENRE_ADJECTIVES[g] != first]
    phrases += [f"{GENRE_ADJECTIVES[first]} {PLURALS[g]}" for g in others if g in PLURALS]
    return list(dict.fromkeys(phrases))


def quality_words(facts: TitleFacts) -> list[str]:
    """Quality words for the row: the general ones and its first genre's, none naming another genre."""
    words = [*QUALITY, *GENRE_QUALITY.get(facts.genres[0], ())] if facts.genres else list(QUALITY)
    own = facts.genres
    return [w for w in dict.fromkeys(words) if not any(mentions(w, g) for g in GENRE_NAMES if g not in own)]


def title_phrases(facts: TitleFacts) -> dict[str, int]:
    """Every title the grammar allows for the row (within validation's word and character limits), each
    with the number of the pattern it fills (the decoder lets the model choose patterns more freely)."""
    genres = genre_phrases(facts.genres)
    anchor = film_name(facts.anchor_title) if facts.anchor_title and facts.row_type == "because_you_watched" else None
    phrases: dict[str, int] = {}
    for number, pattern in enumerate(PATTERNS[facts.row_type]):
        for phrase in _fill(pattern, genres, quality_words(facts), anchor, facts.decade):
            if len(phrase.split()) <= MAX_WORDS and len(phrase) <= MAX_CHARS:
                phrases.setdefault(phrase, number)
    return phrases


def _fill(pattern: str, genres: list[str], quality: list[str], anchor: str | None, decade: str | None) -> Iterator[str]:
    if ("{anchor}" in pattern and not anchor) or ("{genres}" in pattern and not genres):
        return
    for genre, word in itertools.product(genres or [""], quality if "{quality}" in pattern else [""]):
        phrase = pattern.format(genres=genre, quality=word, anchor=anchor or "")
        yield phrase
        if decade and pattern.endswith("{genres}"):
            yield f"{phrase} of the {decade}"
            yield f"{phrase} from the {decade}"
        if decade and pattern.startswith("{genres}"):
            yield f"{decade} {phrase}"
